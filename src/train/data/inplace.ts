// The "inplace" addition scratchpad (session 7): every line is a function of the line above through lookups
// that do not depend on the operands' lengths, so no state of a 5-digit problem is missing from 1-4 digit
// training. The register layout (arith.ts) right-aligns B in a register over a fixed W lines, and line k of
// that phase holds or moves by B's length: its line-5 state never occurs below 5 digits, and the shipped
// model answered 5-digit sums 0% of the time for that reason (docs/experiments.md).
//
// Here the + never moves. A line is a carry column, a window of M = 2W + 1 columns and two helper columns:
//
//   prompt   <BOS><User>What is 1234+5678?<Assistant><think>\n
//   think    " ____1234+567848"   line 0: the prompt's last M characters before "?" (digits and + kept, else _),
//            "12____123+_56737"   then a = the digit left of + (A's units) and b = the last column (B's units)
//            "112____12+__5626"   line k: carry, sum digit = a + b + carry of the line above (carry first, as
//            "0912____1+___515"   in arith.ts), then the window shifted right by one column except at the +
//            "06912____+______"   (which stays) and just right of it (a blank): A loses its units into the +,
//                                 B its units off the end; the sum digits fill the window from the left
//   answer   </think>\n\n6912<EOS>    stop when a, b and the carry are blank, blank and 0
//
// Every window column copies the line above one column left (LINE + 1 tokens back, the offset line 0's prompt
// copy and the answer's copy of the last line also use) unless the token straight above is + (copy it, LINE
// back) or the one above-left is + (a blank). a is "the token left of this line's +", a content lookup whose
// answer the + token itself can carry (it sees its left neighbour); every other value comes from a fixed
// offset. Lines are 4 tokens shorter than the register layout's at the same W and there is no W-line phase
// 1, so a 4-digit problem is ~90 think tokens instead of ~230. Operands of up to W - 1 digits fit.
//
// Pads. Without them the + sits in column M - 1 - len(B): a model trained on 1-4 digit B never sees it in the
// column a 5-digit B puts it in, and (session 7, recipes/r1-tiny-ip.json) learns column priors that write a
// blank there. With `pads` = r the window is narrowed to M - r columns followed by r PAD columns (each copies
// the PAD above), and the think block opens with r PADs so that every copy offset stays as it was. r is drawn
// per example (drawInplace), so the + and the window's end visit the columns of longer problems; b becomes "the
// token left of the first PAD", a lookup like a's.
//
//            "| _____1234+5678|48"     width 7, r = 1
//            "12_____123+_567|37"
//            "112_____12+__56|26"
//            "0912_____1+___5|15"
//            "06912_____+____|__"

import type { Rng } from "../rng.js";
import { digitValue as digit } from "./vocab.js";

const BLANK = "_";
/** Fills the columns right of a narrowed window (see inplaceLines) and the think block's first tokens. */
export const PAD = "|";

/** Sizes of the inplace layout at width W: M = 2W + 1 columns of window and pads, LINE = M + 4 (carry, a, b, newline). */
export function inplaceShape(width: number): { W: number; M: number; LINE: number; maxDigits: number } {
  if (!Number.isInteger(width) || width < 2)
    throw new Error(`the inplace scratchpad's width must be an integer >= 2, got ${width}`);
  const M = 2 * width + 1;
  return { W: width, M, LINE: M + 4, maxDigits: width - 1 };
}

/** The most pad columns a + b leaves room for at this width (the sum and a blank must fit left of the +). */
export function maxPads(a: string, b: string, width: number): number {
  const { M } = inplaceShape(width);
  return M - 3 - b.length - Math.max(a.length, b.length);
}

/**
 * An example's random choices. `pads` = r: the window is M - r columns and r PAD columns follow it (the think
 * block opens with r PADs so that line 0 still copies the prompt from LINE + 1 back). `idle`: the steps k (1 =
 * the first sum line) before which an idle line repeats the line above. `drop` (0-2): helper columns the last
 * line leaves off, each moving the answer one newline further from </think>.
 */
export interface InplaceDraw {
  pads: number;
  idle: ReadonlySet<number>;
  drop: number;
}

/** An idle line's first token: "=" where the carry it stands for is 0 (or line 0's blank), "#" where it is 1. */
const IDLE: Record<string, string> = { " ": "=", "0": "=", "1": "#", "=": "=", "#": "#" };

/**
 * One line per column, from line 0 (the prompt's copy) to the line whose a, b and carry are all empty (the
 * last line in full: inplaceScratchpad drops its `drop` helper columns). An idle line is the line above with
 * its carry written as "=" (0) or "#" (1) and every other token copied from LINE back; the next line reads its
 * carry from that mark, so no lookup spans more than one line.
 */
export function inplaceLines(a: string, b: string, width: number, d: Partial<InplaceDraw> = {}): string[] {
  const { M, maxDigits } = inplaceShape(width);
  const pads = d.pads ?? 0;
  if (a.length > maxDigits || b.length > maxDigits)
    throw new Error(`the inplace scratchpad of width ${width} fits operands of up to ${maxDigits} digits`);
  if (pads < 0 || pads > maxPads(a, b, width))
    throw new Error(`${a}+${b} leaves room for 0-${maxPads(a, b, width)} pad columns at width ${width}, not ${pads}`);
  const N = M - pads; // window columns
  const p = N - 1 - b.length; // the + column, fixed for the whole problem
  let win = `${a}+${b}`.padStart(N, BLANK);
  let c = " ";
  const line = () => `${c}${win}${PAD.repeat(pads)}${win[p - 1]}${win[N - 1]}`;
  const lines = [line()];
  for (let k = 1; ; k++) {
    if (d.idle?.has(k)) lines.push(IDLE[c] + lines[lines.length - 1].slice(1));
    const s = digit(win[p - 1]) + digit(win[N - 1]) + digit(c);
    c = s >= 10 ? "1" : "0";
    win = `${s % 10}${win.slice(0, p - 1)}+${BLANK}${win.slice(p + 1, N - 1)}`;
    lines.push(line());
    if (win[p - 1] === BLANK && win[N - 1] === BLANK && c === "0") return lines;
  }
}

/**
 * The reasoning text (without <think> and its newline) for a + b: the PADs, then the lines, the last one short
 * by `drop`. With it, the offsets in that text of the tokens worth up-weighting (TaskOptions.computeWeight):
 * line 0's window, pads, a and b (not the PADs before it, nor an idle line's mark: coin flips), then each sum
 * line's carry, sum digit, a, b and the columns where the copy rule changes (at the +, right of it, the first
 * pad). The caller adds </think> and the answer.
 */
export function inplaceThink(
  a: string,
  b: string,
  width: number,
  d: Partial<InplaceDraw> = {},
): { text: string; computed: number[] } {
  const { M, LINE } = inplaceShape(width);
  const pads = d.pads ?? 0;
  const lines = inplaceLines(a, b, width, d);
  const full = PAD.repeat(pads) + lines.join("\n");
  const text = full.slice(0, full.length - (d.drop ?? 0));
  const p = M - pads - 1 - b.length; // the + column, as inplaceLines places it
  const computed: number[] = [];
  for (let c = 1; c <= M + 2; c++) computed.push(pads + c);
  for (let k = 1; k < lines.length; k++) {
    if (lines[k][0] === "=" || lines[k][0] === "#") continue;
    const l = pads + k * LINE;
    for (const i of [l, l + 1, l + 1 + p, l + 2 + p, l + 1 + M, l + 2 + M, pads ? l + 1 + M - pads : -1])
      if (i >= 0 && i < text.length) computed.push(i);
  }
  return { text, computed };
}

/** inplaceThink's text alone. */
export function inplaceScratchpad(a: string, b: string, width: number, d: Partial<InplaceDraw> = {}): string {
  return inplaceThink(a, b, width, d).text;
}

/** What follows </think>: two newlines, one more per dropped helper column, then the answer. */
export function answerGap(d: Partial<InplaceDraw> = {}): string {
  return "\n".repeat(2 + (d.drop ?? 0));
}

/** What TaskOptions asks of the inplace layout's random choices (see drawInplace). */
export interface InplaceChoices {
  pads?: number;
  idle?: number;
  shortTail?: number;
}

/**
 * One example's random choices. pads (R > 0): 1 PAD with probability 0.55, so that greedy decoding writes one
 * and starts line 0, else uniform over 2..R (fewer where the problem leaves less room). idle (q): each step
 * has an idle line before it with probability q (< 0.5: greedy decoding never idles). shortTail (t): the last
 * line drops 1 or 2 helper columns with probability t/2 each.
 */
export function drawInplace(rng: Rng, a: string, b: string, width: number, o: InplaceChoices): InplaceDraw {
  let pads = 0;
  if (o.pads) {
    const most = Math.min(o.pads, maxPads(a, b, width));
    if (most < 1) throw new Error(`${a}+${b} leaves no room for a pad column at width ${width}: raise width`);
    pads = most === 1 || rng.next() < 0.55 ? 1 : rng.int(2, most);
  }
  const idle = new Set<number>();
  const q = o.idle ?? 0;
  if (q) for (let k = 1; k <= width + 1; k++) if (rng.next() < q) idle.add(k);
  const t = o.shortTail ?? 0;
  const u = t ? rng.next() : 1; // no draw without a short tail: older recipes' data stays the same
  return { pads, idle, drop: u < t / 2 ? 1 : u < t ? 2 : 0 };
}

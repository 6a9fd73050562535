// Addition with a <think> scratchpad in which every line is the previous line shifted by one, plus a few
// characters computed from fixed columns of the previous line. Every lookup is at a fixed relative offset that
// many tokens share (above all "the same column one line up", 18 tokens back), which a tiny RoPE transformer
// learns fast; no step needs a count or a content match. W = 5: every line is 17 characters and a newline:
// a carry column, a window of 2W+1 columns and a W-column register.
//
//   prompt   <BOS><User>What is 1234+5678?<Assistant><think>\n
//   think    "add"                 a fixed header (see HEADER)
//            " __1234+5678_____"   line 0: carry blank, the 11 prompt characters before "?" (digits and +
//            ">___1234+5678____"   kept, else _), an empty register. Phase 1 (W lines): while the window does
//            ">____1234+5678___"   not end in +, shift it right (">"), else hold it ("="); its last character
//            ">_____1234+5678__"   (a digit of B, else _) enters the register on its right, which shifts right.
//            ">______1234+5678_"   After W lines A is right-aligned in the window and B in the register,
//            "=______1234+_5678"   units under units.
//            "12______123+__567"   phase 2 (after the register's last column holds a digit, or the carry
//            "112______12+___56"   column does): the carry out of this column, then the units of A + B +
//            "0912______1+____5"   carry in, then the window shifted right (the sum digits form a register
//            "06912______+_____"   on its left) ending in +, then B shifted right; stop when A and B are
//                                  empty and the carry is 0. Lines end in "\n", the last one in </think>.
//   answer   </think>\n\n6912<EOS>   the answer copies the last line from column 1 up to the first _
//
// The carry comes before the digit on purpose (session 3): the digit is then a + b + c_in - 10 * c_out, a
// linear function of four looked-up tokens that a linear readout can score, where "(a + b + c) mod 10" on its
// own is a sawtooth the model must carve out of one direction. With the carry after the digit (the first
// design of this layout), the step-4500 model copied everything and got the sum digit wrong at 1 digit 70% of
// the time. The sum register turns "digits come out least significant first" into "the answer reads left to
// right" with no reversal. Operands of up to W digits fit (sums of W+1 digits too).

import { Rng } from "../rng.js";
import { answerGap, drawInplace, type InplaceDraw, inplaceScratchpad, inplaceThink } from "./inplace.js";
import { ASSISTANT, BOS, digitValue, END_THINK, EOS, encode, THINK, USER } from "./vocab.js";

/** Default operand width; a task's `width` overrides it. */
export const W = 5;
const BLANK = "_";
const PREFIXES = ["What is ", "What is ", "What is ", "What is ", "what is ", "Compute ", "", "What's "];

/**
 * Three tokens before line 0 so that line 0 copies the prompt from 19 tokens back (the prompt's last 11
 * characters before "?", then "?", <Assistant>, <think>, "\n", this header): the same offset as every shift of
 * one line to the next (one line up and one column left). With no header that copy was 16 back and learnt far
 * slower than the rest (35-63% per column at step 1775 of the carry-first run, against >90% for the sums).
 */
export const HEADER = "add";

/** The header for width W: W - 2 characters, so that line 0's copy of the prompt is LINE + 1 back ("add:" at 6). */
export function header(width = W): string {
  const n = Math.max(width - 2, 0);
  return n <= HEADER.length ? HEADER.slice(0, n) : HEADER.padEnd(n, ":");
}

/**
 * A layout's sizes for operand width W: the window M = 2W + 1 (two W-digit operands and the +) and LINE, the
 * characters per line with its newline (carry, window, register, "\n"; 18 for W = 5, so copies sit 19 back).
 * Operands of up to W - 1 digits leave a blank left of A in line 0; W-digit operands leave none, which a model
 * trained on shorter ones has never seen (session 3: width 5 trained on 1-4 digits got 0% at 5 digits).
 */
export function shape(width = W): { W: number; M: number; LINE: number } {
  if (!Number.isInteger(width) || width < 1)
    throw new Error(`scratchpad width must be a positive integer, got ${width}`);
  return { W: width, M: 2 * width + 1, LINE: 3 * width + 3 };
}

/** The reasoning text (without <think> and the newline after it) for a + b. */
export function scratchpad(a: string, b: string, width = W): string {
  const { W, M } = shape(width);
  let win = `${a}+${b}`.padStart(M, BLANK);
  let c = " ";
  let reg = BLANK.repeat(W);
  const lines = [`${c}${win}${reg}`];
  // Phase 1: move B, one digit a line, into the register, until its units reach the last column.
  for (let i = 0; i < W; i++) {
    const last = win[M - 1];
    reg = (last === "+" ? BLANK : last) + reg.slice(0, W - 1);
    if (last !== "+") win = BLANK + win.slice(0, M - 1);
    // The line's mode in its first column: ">" the window moved, "=" it held (its + reached the end). Every
    // column of a phase-1 line copies from 19 back (moved) or 18 back (held); the flag puts that state in one
    // token the rest of the line can find by content, where before each column had to look at the previous
    // line's last window column (a different offset per column): those columns were the last errors.
    c = last === "+" ? "=" : ">";
    lines.push(`${c}${win}${reg}`);
  }
  // Phase 2: one column a line.
  for (;;) {
    const s = digitValue(win[M - 2]) + digitValue(reg[W - 1]) + digitValue(c);
    win = `${s % 10}${win.slice(0, M - 2)}+`;
    c = s >= 10 ? "1" : "0";
    reg = BLANK + reg.slice(0, W - 1);
    lines.push(`${c}${win}${reg}`);
    if (win[M - 2] === BLANK && reg[W - 1] === BLANK && c === "0") break;
  }
  return `${header(W)}${lines.join("\n")}`;
}

export function promptText(a: string, b: string, prefix = "What is "): string {
  return `${BOS}${USER}${prefix}${a}+${b}?${ASSISTANT}${THINK}\n`;
}

export function answerOf(a: string, b: string): string {
  return String(BigInt(a) + BigInt(b));
}

export interface Example {
  /** Full token sequence: prompt + response + EOS. */
  ids: number[];
  /** Index of the first response token (everything before is prompt, not trained on). */
  promptLen: number;
  /** Indices into ids of the computed tokens (see TaskOptions.computeWeight). */
  computed?: number[];
}

/** A random operand of n digits (no leading zero unless n = 1). */
export function operand(rng: Rng, n: number): string {
  let s = String(n === 1 ? rng.int(0, 9) : rng.int(1, 9));
  for (let i = 1; i < n; i++) s += String(rng.int(0, 9));
  return s;
}

/** The generator of a run's step: seeded by (seed, step) only, so a resumed run draws what the killed one would have. */
export function stepRng(seed: number, step: number): Rng {
  return new Rng((seed * 1000003 + step * 7919) >>> 0);
}

/** n operand pairs, each operand of [minDigits, maxDigits] digits, from stepRng(seed, step) (grpo, distill). */
export function operandPairs(
  seed: number,
  step: number,
  n: number,
  minDigits: number,
  maxDigits: number,
): { a: string; b: string }[] {
  const rng = stepRng(seed, step);
  return Array.from({ length: n }, () => ({
    a: operand(rng, rng.int(minDigits, maxDigits)),
    b: operand(rng, rng.int(minDigits, maxDigits)),
  }));
}

export interface TaskOptions {
  minDigits: number;
  maxDigits: number;
  /** Fraction of examples with an empty think block (R1's non-reasoning data): the answer follows directly. */
  noThink: number;
  /**
   * Loss weight of the tokens that are rare lookups: each phase-2 line's carry and sum digit, the </think> that
   * ends the loop, line 0's copy of the prompt and the answer's copy of the last line (copies only those tokens
   * make; the header puts both LINE + 1 back, like every line shift). Together ~20 of ~200 response tokens; at
   * weight 1 the "one line up" copies, learnt early, dominate the gradient (session 3: every 1-digit failure of
   * the step-4500 model was a wrong sum digit; at step 1400 of the carry-first run the line-0 and answer copies
   * lagged at 20-40%). Default 1.
   */
  computeWeight?: number;
  /** Scratchpad operand width W (default 5): operands up to W digits fit; see shape(). */
  width?: number;
  /**
   * "register" (default: the layout above, models/r1-tiny of sessions 4-6) or "inplace" (inplace.ts: no
   * length-dependent phase; operands of up to W - 1 digits).
   */
  layout?: "register" | "inplace";
  /** Inplace layout only: the most pad columns (inplace.ts drawInplace); 0 or absent: none. */
  pads?: number;
  /** Inplace layout only: the probability of an idle line before each sum line (drawInplace). */
  idle?: number;
  /** Inplace layout only: the probability that the last line drops helper columns (drawInplace). */
  shortTail?: number;
}

/** The scratchpad of a task's layout and width for a + b (with an inplace layout's random choices `d`). */
export function thinkText(
  a: string,
  b: string,
  o: Pick<TaskOptions, "width" | "layout">,
  d: Partial<InplaceDraw> = {},
): string {
  return o.layout === "inplace" ? inplaceScratchpad(a, b, o.width ?? W, d) : scratchpad(a, b, o.width);
}

export function makeExample(rng: Rng, o: TaskOptions): Example {
  const a = operand(rng, rng.int(o.minDigits, o.maxDigits));
  const b = operand(rng, rng.int(o.minDigits, o.maxDigits));
  const prefix = PREFIXES[rng.int(0, PREFIXES.length - 1)];
  const prompt = encode(promptText(a, b, prefix));
  // The last line runs straight into </think> (no newline) so that the answer copies it from 19 tokens back
  // too: answer digit j sits at </think> + 3 + j and copies column 1 + j of the last line.
  const { W, M, LINE } = shape(o.width);
  const d = o.layout === "inplace" ? drawInplace(rng, a, b, W, o) : undefined;
  const noThink = rng.next() < o.noThink;
  const ip = d && !noThink ? inplaceThink(a, b, W, d) : undefined;
  const think = noThink ? "" : (ip?.text ?? scratchpad(a, b, W));
  const gap = ip ? answerGap(d) : "\n\n";
  const answer = answerOf(a, b);
  const response = encode(`${think}${END_THINK}${gap}${answer}${EOS}`);
  // One token per scratchpad character.
  // An empty think block's </think> is a coin flip given the prompt: it keeps weight 1.
  const computed: number[] = [];
  if (think) {
    const end = prompt.length + think.length; // </think>
    computed.push(end);
    if (ip) for (const i of ip.computed) computed.push(prompt.length + i);
    else {
      const h = header(W).length;
      const l0 = prompt.length + h; // line i starts at l0 + i * LINE
      for (let c = 1; c <= M; c++) computed.push(l0 + c);
      for (let i = W + 1; h + i * LINE < think.length; i++) computed.push(l0 + i * LINE, l0 + i * LINE + 1);
    }
    const first = end + 1 + gap.length;
    for (let j = 0; j < answer.length; j++) computed.push(first + j);
    // the inplace layout also weights the <EOS> that ends the answer: where to stop is its length lookup
    if (ip) computed.push(first + answer.length);
  }
  return { ids: [...prompt, ...response], promptLen: prompt.length, computed };
}

export interface Batch {
  ids: Int32Array;
  targets: Int32Array;
  mask: Float32Array;
  B: number;
  T: number;
  /** Response tokens that carry loss. */
  tokens: number;
}

/**
 * Packs examples into [B, T] (T = longest - 1) with EOS padding; loss on response tokens only, computed tokens
 * weighted by `computeWeight`.
 */
export function toBatch(examples: Example[], computeWeight = 1): Batch {
  const B = examples.length;
  const T = Math.max(...examples.map((e) => e.ids.length)) - 1;
  const ids = new Int32Array(B * T).fill(1);
  const targets = new Int32Array(B * T).fill(1);
  const mask = new Float32Array(B * T);
  let tokens = 0;
  examples.forEach((e, b) => {
    const heavy = new Set(e.computed ?? []);
    for (let t = 0; t < e.ids.length - 1; t++) {
      ids[b * T + t] = e.ids[t];
      targets[b * T + t] = e.ids[t + 1];
      if (t + 1 >= e.promptLen) {
        mask[b * T + t] = heavy.has(t + 1) ? computeWeight : 1;
        tokens++;
      }
    }
  });
  return { ids, targets, mask, B, T, tokens };
}

/** The final answer in generated text: digits after the last </think> (or the whole text without one). */
export function extractAnswer(text: string): string | null {
  const i = text.lastIndexOf(END_THINK);
  const tail = i >= 0 ? text.slice(i + END_THINK.length) : text;
  const m = /-?\d+/.exec(tail);
  return m ? m[0] : null;
}

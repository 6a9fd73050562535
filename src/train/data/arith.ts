// Addition with a <think> scratchpad in which every line is the previous line shifted by one, plus a few
// characters computed from fixed columns of the previous line. Every lookup is at a fixed relative offset that
// many tokens share (above all "the same column one line up", 18 tokens back), which a tiny RoPE transformer
// learns fast; no step needs a count or a content match. W = 5: every line is 17 characters and a newline,
// a window of 2W+1 columns, a carry column and a W-column register.
//
//   prompt   <BOS><User>What is 1234+5678?<Assistant><think>\n
//   think    __1234+5678 _____   line 0: the 11 prompt characters before "?", digits and + kept, else _
//            ___1234+567 8____   phase 1 (W lines): while the window does not end in +, shift it right;
//            ____1234+56 78___   its last character (a digit of B, else _) enters the register on the
//            _____1234+5 678__   left, which shifts right. After W lines A is right-aligned in columns
//            ______1234+ 5678_   5-9 of the window and B in the register, units under units.
//            ______1234+ _5678
//            4______123+1__567   phase 2 (after the register's last column holds a digit, or the carry
//            12______12+1___56   column does): column 0 = units of A + B + carry, columns 1-9 shift
//            912______1+0____5   right (the sum digits form a register on the left), then +, the carry,
//            6912_______+0_____  B shifted right; stop when A and B are empty and the carry is 0
//   answer   </think>\n\n6912<EOS>   the answer copies the last line from column 0 up to the first _
//
// The sum register turns "digits come out least significant first" into "the answer reads left to right"
// with no reversal. Operands of up to W digits fit (sums of W+1 digits too).

import type { Rng } from "../rng.js";
import { ASSISTANT, BOS, END_THINK, EOS, encode, THINK, USER } from "./vocab.js";

export const W = 5;
/** Window width: room for two W-digit operands and the +. */
const M = 2 * W + 1;
const BLANK = "_";
const PREFIXES = ["What is ", "What is ", "What is ", "What is ", "what is ", "Compute ", "", "What's "];

function digit(ch: string): number {
  return ch === BLANK || ch === " " ? 0 : Number(ch);
}

/** The reasoning text (without <think> and the newline after it) for a + b. */
export function scratchpad(a: string, b: string): string {
  let win = `${a}+${b}`.padStart(M, BLANK);
  let c = " ";
  let reg = BLANK.repeat(W);
  const lines = [`${win}${c}${reg}`];
  // Phase 1: move B, one digit a line, into the register, until its units reach the last column.
  for (let i = 0; i < W; i++) {
    const last = win[M - 1];
    reg = (last === "+" ? BLANK : last) + reg.slice(0, W - 1);
    if (last !== "+") win = BLANK + win.slice(0, M - 1);
    lines.push(`${win}${c}${reg}`);
  }
  // Phase 2: one column a line.
  for (;;) {
    const s = digit(win[M - 2]) + digit(reg[W - 1]) + digit(c);
    win = `${s % 10}${win.slice(0, M - 2)}+`;
    c = s >= 10 ? "1" : "0";
    reg = BLANK + reg.slice(0, W - 1);
    lines.push(`${win}${c}${reg}`);
    if (win[M - 2] === BLANK && reg[W - 1] === BLANK && c === "0") break;
  }
  return lines.join("\n");
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

export interface TaskOptions {
  minDigits: number;
  maxDigits: number;
  /** Fraction of examples with an empty think block (R1's non-reasoning data): the answer follows directly. */
  noThink: number;
  /**
   * Loss weight of the computed tokens: each phase-2 line's sum digit and carry, and the </think> that ends the
   * loop. They are 2 of every 18 scratchpad tokens and the only ones that are not copies, so at weight 1 the
   * copies dominate the gradient long after they are learnt (session 3: every 1-digit failure of the step-4500
   * model was a wrong sum digit). Default 1.
   */
  computeWeight?: number;
}

export function makeExample(rng: Rng, o: TaskOptions): Example {
  const a = operand(rng, rng.int(o.minDigits, o.maxDigits));
  const b = operand(rng, rng.int(o.minDigits, o.maxDigits));
  const prefix = PREFIXES[rng.int(0, PREFIXES.length - 1)];
  const prompt = encode(promptText(a, b, prefix));
  const think = rng.next() < o.noThink ? "" : `${scratchpad(a, b)}\n`;
  const response = encode(`${think}${END_THINK}\n\n${answerOf(a, b)}${EOS}`);
  // One token per scratchpad character: line i starts at prompt.length + i * LINE.
  // An empty think block's </think> is a coin flip given the prompt: it keeps weight 1.
  const computed = think ? [prompt.length + think.length] : [];
  for (let i = W + 1; i * LINE < think.length; i++)
    computed.push(prompt.length + i * LINE, prompt.length + i * LINE + M);
  return { ids: [...prompt, ...response], promptLen: prompt.length, computed };
}

/** Characters per scratchpad line with its newline: window, carry, register, "\n". */
const LINE = M + 1 + W + 1;

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

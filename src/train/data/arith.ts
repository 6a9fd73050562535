// Addition with a <think> scratchpad laid out so that every step a tiny transformer must take is a lookup at a
// fixed relative offset (what RoPE makes easy) or a match on a unique tag, never a count. W = 6 columns.
//
//   prompt   <BOS><User>What is 1234+5678?<Assistant><think>\n
//   think    fedcba            tag line: column letters (a = units) above...
//            __5678            ...B right-aligned: a constant offset from the end of the prompt
//            __                Z: W - len(B) blanks, so that what follows sits at a constant offset from A
//            FEDCBA            tag line for A
//            __1234            A right-aligned
//            a4+8+0=12 2_____  one line per column: tag, digits, carry in, sum; then the result register,
//            b3+7+1=11 12____  which shifts right each line as the new digit enters on the left
//            c2+6+1=09 912___
//            d1+5+0=06 6912__
//   answer   </think>\n\n6912<EOS>   the answer copies the last register up to its first blank
//
// The register turns "digits come out least significant first" into "the answer reads left to right" with
// no reversal, which is the step tiny models fail at.

import type { Rng } from "../rng.js";
import { ASSISTANT, BOS, END_THINK, EOS, encode, THINK, USER } from "./vocab.js";

export const W = 6;
const BLANK = "_";
const PREFIXES = ["What is ", "What is ", "What is ", "What is ", "what is ", "Compute ", "", "What's "];

function rightAlign(s: string): string {
  return BLANK.repeat(W - s.length) + s;
}

/** The reasoning text (without <think> and the newline after it) for a + b. */
export function scratchpad(a: string, b: string): string {
  const tags = "abcdefghij".slice(0, W);
  const lines = [
    [...tags].reverse().join(""),
    rightAlign(b),
    BLANK.repeat(W - b.length),
    [...tags.toUpperCase()].reverse().join(""),
    rightAlign(a),
  ];
  let reg = BLANK.repeat(W);
  let carry = 0;
  for (let i = 0; i < W; i++) {
    const da = i < a.length ? a[a.length - 1 - i] : BLANK;
    const db = i < b.length ? b[b.length - 1 - i] : BLANK;
    if (da === BLANK && db === BLANK && carry === 0) break;
    const s = (da === BLANK ? 0 : Number(da)) + (db === BLANK ? 0 : Number(db)) + carry;
    const sum = String(s).padStart(2, "0");
    reg = (sum[1] + reg).slice(0, W);
    lines.push(`${tags[i]}${da}+${db}+${carry}=${sum} ${reg}`);
    carry = s >= 10 ? 1 : 0;
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
}

export function makeExample(rng: Rng, o: TaskOptions): Example {
  const a = operand(rng, rng.int(o.minDigits, o.maxDigits));
  const b = operand(rng, rng.int(o.minDigits, o.maxDigits));
  const prefix = PREFIXES[rng.int(0, PREFIXES.length - 1)];
  const prompt = encode(promptText(a, b, prefix));
  const think = rng.next() < o.noThink ? "" : `${scratchpad(a, b)}\n`;
  const response = encode(`${think}${END_THINK}\n\n${answerOf(a, b)}${EOS}`);
  return { ids: [...prompt, ...response], promptLen: prompt.length };
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

/** Packs examples into [B, T] (T = longest - 1) with EOS padding; loss on response tokens only. */
export function toBatch(examples: Example[]): Batch {
  const B = examples.length;
  const T = Math.max(...examples.map((e) => e.ids.length)) - 1;
  const ids = new Int32Array(B * T).fill(1);
  const targets = new Int32Array(B * T).fill(1);
  const mask = new Float32Array(B * T);
  let tokens = 0;
  examples.forEach((e, b) => {
    for (let t = 0; t < e.ids.length - 1; t++) {
      ids[b * T + t] = e.ids[t];
      targets[b * T + t] = e.ids[t + 1];
      if (t + 1 >= e.promptLen) {
        mask[b * T + t] = 1;
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

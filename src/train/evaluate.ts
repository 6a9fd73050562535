// Checks on an exported folder, through the runtime exactly as `r1 run` loads it:
// - parity: the runtime's logits on the folder vs the trainer's forward pass on the weights the folder decodes
//   to (FP8 dequantized, BF16 rounded), both in f32;
// - accuracy: greedy generation on held-out problems by digit count, thinking (R1's `<think>\n` prompt) versus
//   a forced empty think block (`<think>\n</think>\n\n` prefilled).

import { loadEngine } from "../generate/engine.js";
import { generate } from "../generate/generate.js";
import { Tape } from "./autograd.js";
import { answerOf, extractAnswer, operand, promptText } from "./data/arith.js";
import { END_THINK, encode } from "./data/vocab.js";
import { exportedWeights } from "./export.js";
import type { TinyV3 } from "./model.js";
import { Rng } from "./rng.js";

export interface Parity {
  tokens: number;
  maxAbsDiff: number;
  maxAbsLogit: number;
  /** Same greedy argmax at every position. */
  argmaxAgree: number;
}

/** Runtime logits on `dir` vs the trainer forward pass with the exported (decoded) weights, on `ids`. */
export function parity(model: TinyV3, dir: string, ids: number[]): Parity {
  const saved = new Map<string, Float32Array>();
  for (const [n, w] of exportedWeights(model)) {
    saved.set(n, model.p(n).data);
    model.p(n).data = w;
  }
  let ours: Float32Array;
  try {
    ours = model.forward(new Tape(false), Int32Array.from(ids), 1, ids.length).logits.data;
  } finally {
    for (const [n, d] of saved) model.p(n).data = d;
  }
  const e = loadEngine(dir);
  const theirs = e.model.forward(ids, e.model.newCache(ids.length), true);
  const V = model.cfg.vocabSize;
  let maxAbsDiff = 0;
  let maxAbsLogit = 0;
  let agree = 0;
  for (let t = 0; t < ids.length; t++) {
    let a = 0;
    let b = 0;
    for (let v = 0; v < V; v++) {
      const x = ours[t * V + v];
      const y = theirs[t * V + v];
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x - y));
      maxAbsLogit = Math.max(maxAbsLogit, Math.abs(y));
      if (x > ours[t * V + a]) a = v;
      if (y > theirs[t * V + b]) b = v;
    }
    if (a === b) agree++;
  }
  return { tokens: ids.length, maxAbsDiff, maxAbsLogit, argmaxAgree: agree / ids.length };
}

export interface AccuracyRow {
  digits: number;
  n: number;
  think: number;
  noThink: number;
  /** Mean generated tokens with thinking. */
  thinkTokens: number;
}

/** A greedy generator over an exported folder: prompt ids in, the whole generation (up to 320 tokens) out. */
export function greedy(dir: string): (prompt: number[]) => Promise<{ text: string; tokens: ArrayLike<number> }> {
  const e = loadEngine(dir);
  return async (prompt) => {
    const gen = generate(e.model, e.tokenizer, prompt, { maxTokens: 320, temperature: 0 });
    for (;;) {
      const s = await gen.next();
      if (s.done) return s.value;
    }
  };
}

/** The n held-out problems of one operand length (both operands `digits` long) that accuracy() asks. */
export function heldOutProblems(digits: number, n: number, seed = 12345): { a: string; b: string }[] {
  const rng = new Rng(seed + digits * 101);
  return Array.from({ length: n }, () => ({ a: operand(rng, digits), b: operand(rng, digits) }));
}

/** Held-out accuracy per operand length (both operands `digits` long), greedy decoding. */
export async function accuracy(dir: string, digits: number[], n: number, seed = 12345): Promise<AccuracyRow[]> {
  const run = greedy(dir);
  const rows: AccuracyRow[] = [];
  for (const d of digits) {
    let think = 0;
    let noThink = 0;
    let toks = 0;
    for (const { a, b } of heldOutProblems(d, n, seed)) {
      const want = answerOf(a, b);
      const p = promptText(a, b);
      const r1 = await run(encode(p));
      toks += r1.tokens.length;
      if (extractAnswer(r1.text) === want) think++;
      const r2 = await run(encode(`${p}${END_THINK}\n\n`));
      if (extractAnswer(`${END_THINK}${r2.text}`) === want) noThink++;
    }
    rows.push({ digits: d, n, think: think / n, noThink: noThink / n, thinkTokens: toks / n });
  }
  return rows;
}

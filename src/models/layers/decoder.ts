// The part every decoder-only transformer shares: embed -> blocks -> final norm -> output head.

import { inputError } from "../../core/errors.js";
import type { Kernels } from "../../kernels/kernels.js";
import { decodeRow, type Weight } from "../../kernels/weight.js";
import type { KVCache } from "../model.js";

export interface DecoderWeights {
  embed: Weight; // [vocab, hidden]
  outNorm: Float32Array; // [hidden]
  head: Weight; // [vocab, hidden]
}

/** A block updates x [T, hidden] in place for tokens at positions pos0..pos0+T-1. */
export type BlockFn = (layer: number, x: Float32Array, T: number, pos0: number, cache: KVCache) => void;

export function checkRun(tokens: ArrayLike<number>, cache: KVCache, vocab: number): void {
  if (tokens.length === 0) throw inputError("empty input: at least one token is needed");
  if (cache.pos + tokens.length > cache.ctx)
    throw inputError(
      `the prompt and output need ${cache.pos + tokens.length} tokens but the context holds ${cache.ctx}`,
      "shorten the prompt, lower --max-tokens, or raise --ctx-size (up to the model's max_position_embeddings)",
    );
  for (let i = 0; i < tokens.length; i++) {
    const id = tokens[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocab)
      throw inputError(`token id ${id} is outside the vocabulary [0, ${vocab})`, "pass ids the model's tokenizer produced");
  }
}

export function runDecoder(
  k: Kernels,
  w: DecoderWeights,
  nLayers: number,
  hidden: number,
  eps: number,
  block: BlockFn,
  tokens: ArrayLike<number>,
  cache: KVCache,
  allLogits: boolean,
): Float32Array {
  const vocab = w.head.rows;
  checkRun(tokens, cache, w.embed.rows);
  const T = tokens.length;
  const pos0 = cache.pos;
  const x = new Float32Array(T * hidden);
  for (let t = 0; t < T; t++) decodeRow(w.embed, tokens[t], x.subarray(t * hidden, (t + 1) * hidden));
  for (let l = 0; l < nLayers; l++) block(l, x, T, pos0, cache);
  cache.pos = pos0 + T;
  const rows = allLogits ? T : 1;
  const last = x.subarray((T - rows) * hidden);
  const normed = new Float32Array(rows * hidden);
  k.rmsnorm(normed, last, w.outNorm, rows, hidden, eps);
  const logits = new Float32Array(rows * vocab);
  k.matmul(logits, normed, w.head, rows);
  return logits;
}

/** x += y, elementwise over n floats. */
export function addInto(x: Float32Array, y: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) x[i] += y[i];
}

/** out[T, n] += bias[n] broadcast over rows. */
export function addBias(out: Float32Array, bias: Float32Array, T: number): void {
  const n = bias.length;
  for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) out[t * n + i] += bias[i];
}

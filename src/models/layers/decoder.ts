// The part every decoder-only transformer shares: embed -> blocks -> final norm -> output head.

import { inputError } from "../../core/errors.js";
import type { Kernels } from "../../kernels/kernels.js";
import { decodeRow, type Weight } from "../../kernels/weight.js";
import type { BatchItem, KVCache } from "../model.js";

export interface DecoderWeights {
  embed: Weight; // [vocab, hidden]
  outNorm: Float32Array; // [hidden]
  head: Weight; // [vocab, hidden]
}

/** One sequence's run of tokens inside a batch: rows [start, start+T) of x, at positions pos0.. of its cache. */
export interface Seg {
  start: number;
  T: number;
  pos0: number;
  cache: KVCache;
}

/** A block updates x [N, hidden] in place; N is the total of the segments' T. */
export type BlockFn = (layer: number, x: Float32Array, N: number, segs: Seg[]) => void;

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
      throw inputError(
        `token id ${id} is outside the vocabulary [0, ${vocab})`,
        "pass ids the model's tokenizer produced",
      );
  }
}

/**
 * Runs every sequence's new tokens through the stack as one [N, hidden] batch: each matrix is read once for
 * all N rows; attention reads each sequence's own cache. Returns logits per item: [T, vocab] when allLogits,
 * else [1, vocab] for its last token.
 */
export function runDecoder(
  k: Kernels,
  w: DecoderWeights,
  nLayers: number,
  hidden: number,
  eps: number,
  block: BlockFn,
  items: BatchItem[],
): Float32Array[] {
  const vocab = w.head.rows;
  const segs: Seg[] = [];
  let N = 0;
  for (const it of items) {
    checkRun(it.tokens, it.cache, w.embed.rows);
    if (segs.some((s) => s.cache === it.cache)) throw new Error("runDecoder: one cache twice in a batch");
    segs.push({ start: N, T: it.tokens.length, pos0: it.cache.pos, cache: it.cache });
    N += it.tokens.length;
  }
  const x = new Float32Array(N * hidden);
  items.forEach((it, i) => {
    for (let t = 0; t < it.tokens.length; t++) {
      const r = segs[i].start + t;
      decodeRow(w.embed, it.tokens[t], x.subarray(r * hidden, (r + 1) * hidden));
    }
  });
  for (let l = 0; l < nLayers; l++) block(l, x, N, segs);
  // Only the rows whose logits are wanted go through the (large) output head, in one matmul.
  const rowsOf = items.map((it, i) => (it.allLogits ? segs[i].T : 1));
  const R = rowsOf.reduce((a, b) => a + b, 0);
  const picked = new Float32Array(R * hidden);
  let r = 0;
  items.forEach((_, i) => {
    const s = segs[i];
    const from = s.start + s.T - rowsOf[i];
    picked.set(x.subarray(from * hidden, (from + rowsOf[i]) * hidden), r * hidden);
    r += rowsOf[i];
    s.cache.pos = s.pos0 + s.T;
  });
  k.rmsnorm(picked, picked, w.outNorm, R, hidden, eps);
  const logits = new Float32Array(R * vocab);
  k.matmul(logits, picked, w.head, R);
  const out: Float32Array[] = [];
  r = 0;
  for (const n of rowsOf) {
    out.push(logits.subarray(r * vocab, (r + n) * vocab));
    r += n;
  }
  return out;
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

// Grouped-query self-attention with rotary embeddings (Llama, Qwen2): x += Wo · attn(rope(Wq h), rope(Wk h), Wv h).

import type { Kernels } from "../../kernels/kernels.js";
import type { Weight } from "../../kernels/weight.js";
import type { RopeConfig } from "../config.js";
import { addBias, addInto } from "./decoder.js";
import { ropeAngles, type RopeTables } from "./rope.js";

export interface GqaWeights {
  norm: Float32Array; // [hidden]
  q: Weight; // [nHeads*hd, hidden]
  k: Weight; // [nKv*hd, hidden]
  v: Weight; // [nKv*hd, hidden]
  o: Weight; // [hidden, nHeads*hd]
  qBias?: Float32Array;
  kBias?: Float32Array;
  vBias?: Float32Array;
}

export interface GqaDims {
  hidden: number;
  nHeads: number;
  nKv: number;
  hd: number;
  eps: number;
  rope: RopeConfig;
  tables: RopeTables;
}

/** kCache/vCache: [ctx, nKv*hd]. Writes the new keys/values at pos0.. then attends. */
export function gqaBlock(
  k: Kernels,
  w: GqaWeights,
  d: GqaDims,
  x: Float32Array,
  T: number,
  pos0: number,
  kCache: Float32Array,
  vCache: Float32Array,
): void {
  const { hidden, nHeads, nKv, hd } = d;
  const h = new Float32Array(T * hidden);
  k.rmsnorm(h, x, w.norm, T, hidden, d.eps);
  const q = new Float32Array(T * nHeads * hd); // [T, nHeads, hd]
  const kk = kCache.subarray(pos0 * nKv * hd, (pos0 + T) * nKv * hd); // [T, nKv, hd], written in place
  const vv = vCache.subarray(pos0 * nKv * hd, (pos0 + T) * nKv * hd);
  k.matmul(q, h, w.q, T);
  k.matmul(kk, h, w.k, T);
  k.matmul(vv, h, w.v, T);
  if (w.qBias) addBias(q, w.qBias, T);
  if (w.kBias) addBias(kk, w.kBias, T);
  if (w.vBias) addBias(vv, w.vBias, T);
  const half = d.rope.dim / 2;
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  ropeAngles(d.tables, pos0, T, cos, sin);
  k.rope(q, T, nHeads, hd, 0, d.rope.dim, cos, sin, d.rope.interleaved);
  k.rope(kk, T, nKv, hd, 0, d.rope.dim, cos, sin, d.rope.interleaved);
  const att = new Float32Array(T * nHeads * hd);
  k.attention(att, q, kCache, vCache, T, pos0, nHeads, nKv, hd, 1 / Math.sqrt(hd));
  const o = new Float32Array(T * hidden);
  k.matmul(o, att, w.o, T);
  addInto(x, o, T * hidden);
}

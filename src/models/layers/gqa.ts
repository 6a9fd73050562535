// Grouped-query self-attention with rotary embeddings (Llama, Qwen2): x += Wo · attn(rope(Wq h), rope(Wk h), Wv h).

import type { Kernels } from "../../kernels/kernels.js";
import type { Weight } from "../../kernels/weight.js";
import type { RopeConfig } from "../config.js";
import { addBias, addInto, type Seg } from "./decoder.js";
import { type RopeTables, ropeAngles } from "./rope.js";

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

/** Computes q/k/v for all N rows, writes each segment's keys/values into its cache, attends per segment. */
export function gqaBlock(
  k: Kernels,
  w: GqaWeights,
  d: GqaDims,
  x: Float32Array,
  N: number,
  segs: Seg[],
  layer: number,
): void {
  const { hidden, nHeads, nKv, hd } = d;
  const kvw = nKv * hd;
  const h = new Float32Array(N * hidden);
  k.rmsnorm(h, x, w.norm, N, hidden, d.eps);
  const q = new Float32Array(N * nHeads * hd); // [N, nHeads, hd]
  const kk = new Float32Array(N * kvw); // [N, nKv, hd]
  const vv = new Float32Array(N * kvw);
  k.matmulMany([q, kk, vv], h, [w.q, w.k, w.v], N);
  if (w.qBias) addBias(q, w.qBias, N);
  if (w.kBias) addBias(kk, w.kBias, N);
  if (w.vBias) addBias(vv, w.vBias, N);
  const half = d.rope.dim / 2;
  const att = new Float32Array(N * nHeads * hd);
  for (const s of segs) {
    const [kCache, vCache] = s.cache.layers[layer];
    const cos = new Float32Array(s.T * half);
    const sin = new Float32Array(s.T * half);
    ropeAngles(d.tables, s.pos0, s.T, cos, sin);
    const qs = q.subarray(s.start * nHeads * hd, (s.start + s.T) * nHeads * hd);
    const ks = kCache.subarray(s.pos0 * kvw, (s.pos0 + s.T) * kvw);
    ks.set(kk.subarray(s.start * kvw, (s.start + s.T) * kvw));
    vCache.set(vv.subarray(s.start * kvw, (s.start + s.T) * kvw), s.pos0 * kvw);
    k.rope(qs, s.T, nHeads, hd, 0, d.rope.dim, cos, sin, d.rope.interleaved);
    k.rope(ks, s.T, nKv, hd, 0, d.rope.dim, cos, sin, d.rope.interleaved);
    const as = att.subarray(s.start * nHeads * hd, (s.start + s.T) * nHeads * hd);
    k.attention(as, qs, kCache, vCache, s.T, s.pos0, nHeads, nKv, hd, 1 / Math.sqrt(hd));
  }
  const o = new Float32Array(N * hidden);
  k.matmul(o, att, w.o, N);
  addInto(x, o, N * hidden);
}

// Multi-head Latent Attention (DeepSeek-V2/V3) in the absorbed form of DeepSeek's inference/model.py
// (attn_impl="absorb"): the cache holds, per token, the normalized KV latent c [kvLora] and the shared rotary
// key kPe [rope]: kvLora + rope floats per token per layer instead of nHeads * (qk + v).
// W_UK is folded into the query (qLat = W_UK[h] · qNope) and W_UV applied after attention (o = W_UV[h] · oLat).

import type { Kernels } from "../../kernels/kernels.js";
import type { Weight } from "../../kernels/weight.js";
import type { DeepseekV3Config } from "../config.js";
import { addInto } from "./decoder.js";
import { ropeAngles, type RopeTables, yarnMscale } from "./rope.js";

export interface MlaWeights {
  norm: Float32Array; // [hidden]
  qA?: Weight; // [qLora, hidden]   (absent when q_lora_rank is null: V2-Lite)
  qANorm?: Float32Array; // [qLora]
  qB?: Weight; // [H*(nope+rope), qLora]
  q?: Weight; // [H*(nope+rope), hidden]   (only when q_lora_rank is null)
  kvA: Weight; // [kvLora+rope, hidden]
  kvANorm: Float32Array; // [kvLora]
  wUK: Weight[]; // per head [kvLora, nope]: qLat = W_UK[h] · qNope
  wUV: Weight[]; // per head [v, kvLora]:    o_h  = W_UV[h] · oLat
  o: Weight; // [hidden, H*v]
}

/** Softmax scale: 1/sqrt(qk head dim), times mscale² under YaRN (HF DeepseekV3Attention; model.py MLA). */
export function mlaScale(c: DeepseekV3Config): number {
  let scale = 1 / Math.sqrt(c.qkNopeDim + c.qkRopeDim);
  const s = c.rope.scaling;
  if (s?.type === "yarn" && s.mscaleAllDim) {
    const m = yarnMscale(s.factor, s.mscaleAllDim);
    scale *= m * m;
  }
  return scale;
}

/** Copies head h of x [T, H, stride] (dims [off, off+n)) into dst [T, n], or back when `back`. */
function headSlice(x: Float32Array, dst: Float32Array, T: number, H: number, stride: number, h: number, off: number, n: number, back = false): void {
  for (let t = 0; t < T; t++) {
    const xo = (t * H + h) * stride + off;
    if (back) x.set(dst.subarray(t * n, (t + 1) * n), xo);
    else dst.set(x.subarray(xo, xo + n), t * n);
  }
}

/** cCache [ctx, kvLora], peCache [ctx, rope]. Updates x [T, hidden] in place. */
export function mlaBlock(
  k: Kernels,
  w: MlaWeights,
  c: DeepseekV3Config,
  tables: RopeTables,
  scale: number,
  x: Float32Array,
  T: number,
  pos0: number,
  cCache: Float32Array,
  peCache: Float32Array,
): void {
  const { hidden, nHeads: H, kvLoraRank: R, qkNopeDim: nope, qkRopeDim: rope, vHeadDim: V } = c;
  const qk = nope + rope;
  const h = new Float32Array(T * hidden);
  k.rmsnorm(h, x, w.norm, T, hidden, c.rmsEps);

  const q = new Float32Array(T * H * qk); // [T, H, nope | rope]
  if (w.qA && w.qB && w.qANorm) {
    const qa = new Float32Array(T * w.qA.rows);
    k.matmul(qa, h, w.qA, T);
    k.rmsnorm(qa, qa, w.qANorm, T, w.qA.rows, c.rmsEps);
    k.matmul(q, qa, w.qB, T);
  } else if (w.q) k.matmul(q, h, w.q, T);

  const kv = new Float32Array(T * (R + rope)); // [T, latent | rope key]
  k.matmul(kv, h, w.kvA, T);
  for (let t = 0; t < T; t++) {
    const row = kv.subarray(t * (R + rope), (t + 1) * (R + rope));
    k.rmsnorm(cCache.subarray((pos0 + t) * R, (pos0 + t + 1) * R), row.subarray(0, R), w.kvANorm, 1, R, c.rmsEps);
    peCache.set(row.subarray(R), (pos0 + t) * rope);
  }

  const half = rope / 2;
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  ropeAngles(tables, pos0, T, cos, sin);
  k.rope(q, T, H, qk, nope, rope, cos, sin, c.rope.interleaved);
  k.rope(peCache.subarray(pos0 * rope, (pos0 + T) * rope), T, 1, rope, 0, rope, cos, sin, c.rope.interleaved);

  // Absorb W_UK into the query: qLat [T, H, R]; qPe [T, H, rope].
  const qLat = new Float32Array(T * H * R);
  const qPe = new Float32Array(T * H * rope);
  const qn = new Float32Array(T * nope);
  const ql = new Float32Array(T * R);
  const qp = new Float32Array(T * rope);
  for (let hh = 0; hh < H; hh++) {
    headSlice(q, qn, T, H, qk, hh, 0, nope);
    k.matmul(ql, qn, w.wUK[hh], T);
    headSlice(qLat, ql, T, H, R, hh, 0, R, true);
    headSlice(q, qp, T, H, qk, hh, nope, rope);
    headSlice(qPe, qp, T, H, rope, hh, 0, rope, true);
  }

  const oLat = new Float32Array(T * H * R);
  k.mlaAttention(oLat, qLat, qPe, cCache, peCache, T, pos0, H, R, rope, scale);

  const att = new Float32Array(T * H * V); // [T, H, v]
  const ov = new Float32Array(T * V);
  for (let hh = 0; hh < H; hh++) {
    headSlice(oLat, ql, T, H, R, hh, 0, R);
    k.matmul(ov, ql, w.wUV[hh], T);
    headSlice(att, ov, T, H, V, hh, 0, V, true);
  }
  const o = new Float32Array(T * hidden);
  k.matmul(o, att, w.o, T);
  addInto(x, o, T * hidden);
}

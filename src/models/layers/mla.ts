// Multi-head Latent Attention (DeepSeek-V2/V3) in the absorbed form of DeepSeek's inference/model.py
// (attn_impl="absorb"): the cache holds, per token, the normalized KV latent c [kvLora] and the shared rotary
// key kPe [rope]: kvLora + rope floats per token per layer instead of nHeads * (qk + v).
// W_UK is folded into the query (qLat = W_UK[h] · qNope) and W_UV applied after attention (o = W_UV[h] · oLat).

import type { Kernels } from "../../kernels/kernels.js";
import type { Weight } from "../../kernels/weight.js";
import type { DeepseekV3Config } from "../config.js";
import { addInto, type Seg } from "./decoder.js";
import { type RopeTables, ropeAngles, yarnMscale } from "./rope.js";

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
function headSlice(
  x: Float32Array,
  dst: Float32Array,
  T: number,
  H: number,
  stride: number,
  h: number,
  off: number,
  n: number,
  back = false,
): void {
  for (let t = 0; t < T; t++) {
    const xo = (t * H + h) * stride + off;
    if (back) x.set(dst.subarray(t * n, (t + 1) * n), xo);
    else dst.set(x.subarray(xo, xo + n), t * n);
  }
}

/**
 * Updates x [N, hidden] in place. Each segment's cache layer holds cCache [ctx, kvLora] and peCache [ctx, rope];
 * projections run on all N rows at once, caching and attention per segment.
 */
export function mlaBlock(
  k: Kernels,
  w: MlaWeights,
  c: DeepseekV3Config,
  tables: RopeTables,
  scale: number,
  x: Float32Array,
  N: number,
  segs: Seg[],
  layer: number,
): void {
  const { hidden, nHeads: H, kvLoraRank: R, qkNopeDim: nope, qkRopeDim: rope, vHeadDim: V } = c;
  const qk = nope + rope;
  const h = new Float32Array(N * hidden);
  k.rmsnorm(h, x, w.norm, N, hidden, c.rmsEps);

  const q = new Float32Array(N * H * qk); // [N, H, nope | rope]
  const kv = new Float32Array(N * (R + rope)); // [N, latent | rope key]
  if (w.qA && w.qB && w.qANorm) {
    const qa = new Float32Array(N * w.qA.rows);
    k.matmulMany([qa, kv], h, [w.qA, w.kvA], N);
    k.rmsnorm(qa, qa, w.qANorm, N, w.qA.rows, c.rmsEps);
    k.matmul(q, qa, w.qB, N);
  } else if (w.q) k.matmulMany([q, kv], h, [w.q, w.kvA], N);
  else k.matmul(kv, h, w.kvA, N);

  // Absorb W_UK into the query: qLat [N, H, R]; qPe [N, H, rope] (after RoPE, per segment positions).
  const half = rope / 2;
  const qLat = new Float32Array(N * H * R);
  const qPe = new Float32Array(N * H * rope);
  const oLat = new Float32Array(N * H * R);
  for (const s of segs) {
    const [cCache, peCache] = s.cache.layers[layer];
    for (let t = 0; t < s.T; t++) {
      const row = kv.subarray((s.start + t) * (R + rope), (s.start + t + 1) * (R + rope));
      const p = s.pos0 + t;
      k.rmsnorm(cCache.subarray(p * R, (p + 1) * R), row.subarray(0, R), w.kvANorm, 1, R, c.rmsEps);
      peCache.set(row.subarray(R), p * rope);
    }
    const cos = new Float32Array(s.T * half);
    const sin = new Float32Array(s.T * half);
    ropeAngles(tables, s.pos0, s.T, cos, sin);
    k.rope(
      q.subarray(s.start * H * qk, (s.start + s.T) * H * qk),
      s.T,
      H,
      qk,
      nope,
      rope,
      cos,
      sin,
      c.rope.interleaved,
    );
    k.rope(peCache.subarray(s.pos0 * rope, (s.pos0 + s.T) * rope), s.T, 1, rope, 0, rope, cos, sin, c.rope.interleaved);
  }
  const qn = new Float32Array(N * nope);
  const ql = new Float32Array(N * R);
  const qp = new Float32Array(N * rope);
  for (let hh = 0; hh < H; hh++) {
    headSlice(q, qn, N, H, qk, hh, 0, nope);
    k.matmul(ql, qn, w.wUK[hh], N);
    headSlice(qLat, ql, N, H, R, hh, 0, R, true);
    headSlice(q, qp, N, H, qk, hh, nope, rope);
    headSlice(qPe, qp, N, H, rope, hh, 0, rope, true);
  }
  for (const s of segs) {
    const [cCache, peCache] = s.cache.layers[layer];
    const a = s.start * H;
    const b = (s.start + s.T) * H;
    k.mlaAttention(
      oLat.subarray(a * R, b * R),
      qLat.subarray(a * R, b * R),
      qPe.subarray(a * rope, b * rope),
      cCache,
      peCache,
      s.T,
      s.pos0,
      H,
      R,
      rope,
      scale,
    );
  }

  const att = new Float32Array(N * H * V); // [N, H, v]
  const ov = new Float32Array(N * V);
  for (let hh = 0; hh < H; hh++) {
    headSlice(oLat, ql, N, H, R, hh, 0, R);
    k.matmul(ov, ql, w.wUV[hh], N);
    headSlice(att, ov, N, H, V, hh, 0, V, true);
  }
  const o = new Float32Array(N * hidden);
  k.matmul(o, att, w.o, N);
  addInto(x, o, N * hidden);
}

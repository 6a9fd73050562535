// Causal attention over a KV cache, one (token, head) work item at a time so threads split items [i0, i1).
// Scores and softmax in f32; p is a per-thread scratch of at least pos0+T floats.

import { hsum } from "./common";

// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, n: i32): f32 {
  const n4 = n & ~3;
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i < n4; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(a + (<usize>i << 2)), v128.load(b + (<usize>i << 2))));
  let s = hsum(acc);
  for (; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/** o[0..n) += w * v[0..n) */
// @ts-ignore: decorator
@inline function axpy(o: usize, v: usize, w: f32, n: i32): void {
  const n4 = n & ~3;
  const ww = f32x4.splat(w);
  let i = 0;
  for (; i < n4; i += 4) {
    const oo = o + (<usize>i << 2);
    v128.store(oo, f32x4.add(v128.load(oo), f32x4.mul(ww, v128.load(v + (<usize>i << 2)))));
  }
  for (; i < n; i++) store<f32>(o + (<usize>i << 2), load<f32>(o + (<usize>i << 2)) + w * load<f32>(v + (<usize>i << 2)));
}

/** p[0..n) = softmax(p[0..n)) in place; returns nothing (normalized in place). */
// @ts-ignore: decorator
@inline function softmax(p: usize, n: i32): void {
  let mx: f32 = -Infinity;
  for (let s = 0; s < n; s++) mx = max(mx, load<f32>(p + (<usize>s << 2)));
  let sum: f32 = 0;
  for (let s = 0; s < n; s++) {
    const e = Mathf.exp(load<f32>(p + (<usize>s << 2)) - mx);
    store<f32>(p + (<usize>s << 2), e);
    sum += e;
  }
  const inv: f32 = 1 / sum;
  for (let s = 0; s < n; s++) store<f32>(p + (<usize>s << 2), load<f32>(p + (<usize>s << 2)) * inv);
}

/** q [T, nHeads, hd], k/v [ctx, nKv, hd] -> out [T, nHeads, hd]; items i = t*nHeads + h. */
export function attention(out: usize, q: usize, k: usize, v: usize, T: i32, pos0: i32, nHeads: i32, nKv: i32, hd: i32, scale: f32, p: usize, i0: i32, i1: i32): void {
  const group = nHeads / nKv;
  const kvStride = <usize>(nKv * hd) << 2;
  for (let it = i0; it < i1; it++) {
    const t = it / nHeads;
    const h = it % nHeads;
    const n = pos0 + t + 1;
    const qo = q + (<usize>(it * hd) << 2);
    const kvh = <usize>((h / group) * hd) << 2;
    for (let s = 0; s < n; s++) store<f32>(p + (<usize>s << 2), dot(qo, k + <usize>s * kvStride + kvh, hd) * scale);
    softmax(p, n);
    const oo = out + (<usize>(it * hd) << 2);
    memory.fill(oo, 0, <usize>hd << 2);
    for (let s = 0; s < n; s++) axpy(oo, v + <usize>s * kvStride + kvh, load<f32>(p + (<usize>s << 2)), hd);
  }
}

/** Absorbed MLA: qLat [T, H, rank], qPe [T, H, rd], c [ctx, rank], pe [ctx, rd] -> out [T, H, rank]. */
export function mla_attention(out: usize, qLat: usize, qPe: usize, c: usize, pe: usize, T: i32, pos0: i32, nHeads: i32, rank: i32, rd: i32, scale: f32, p: usize, i0: i32, i1: i32): void {
  for (let it = i0; it < i1; it++) {
    const t = it / nHeads;
    const n = pos0 + t + 1;
    const qo = qLat + (<usize>(it * rank) << 2);
    const po = qPe + (<usize>(it * rd) << 2);
    for (let s = 0; s < n; s++) {
      const sc = dot(qo, c + (<usize>(s * rank) << 2), rank) + dot(po, pe + (<usize>(s * rd) << 2), rd);
      store<f32>(p + (<usize>s << 2), sc * scale);
    }
    softmax(p, n);
    const oo = out + (<usize>(it * rank) << 2);
    memory.fill(oo, 0, <usize>rank << 2);
    for (let s = 0; s < n; s++) axpy(oo, c + (<usize>(s * rank) << 2), load<f32>(p + (<usize>s << 2)), rank);
  }
}

// Causal attention over a KV cache, one (token, head) work item at a time so threads split items [i0, i1).
// Scores and softmax in f32; p is a per-thread scratch of at least pos0+T floats.

import { exp4, hsum } from "./common";

/** a[0..n) · b[0..n): four independent chains over 16 floats a step (one chain was add-latency bound). */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, n: i32): f32 {
  let i = 0;
  let s: f32 = 0;
  if (n >= 16) {
    let a0 = f32x4.mul(v128.load(a), v128.load(b));
    let a1 = f32x4.mul(v128.load(a, 16), v128.load(b, 16));
    let a2 = f32x4.mul(v128.load(a, 32), v128.load(b, 32));
    let a3 = f32x4.mul(v128.load(a, 48), v128.load(b, 48));
    for (i = 16; i + 16 <= n; i += 16) {
      const o = <usize>i << 2;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(a + o, 32), v128.load(b + o, 32)));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(a + o, 48), v128.load(b + o, 48)));
    }
    s = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  }
  for (; i + 4 <= n; i += 4) s += hsum(f32x4.mul(v128.load(a + (<usize>i << 2)), v128.load(b + (<usize>i << 2))));
  for (; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/**
 * o[0..n) = sum over s < m of p[s] * v[s*stride .. s*stride + n): 16 output floats at a time held in registers
 * across all m rows (o is written once, not read and written per row).
 */
// @ts-ignore: decorator
@inline function mix(o: usize, v: usize, stride: usize, p: usize, m: i32, n: i32): void {
  let c = 0;
  for (; c + 16 <= n; c += 16) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let vr = v + (<usize>c << 2);
    for (let s = 0; s < m; s++) {
      const w = v128.load32_splat(p + (<usize>s << 2));
      a0 = f32x4.add(a0, f32x4.mul(w, v128.load(vr)));
      a1 = f32x4.add(a1, f32x4.mul(w, v128.load(vr, 16)));
      a2 = f32x4.add(a2, f32x4.mul(w, v128.load(vr, 32)));
      a3 = f32x4.add(a3, f32x4.mul(w, v128.load(vr, 48)));
      vr += stride;
    }
    const oc = o + (<usize>c << 2);
    v128.store(oc, a0);
    v128.store(oc, a1, 16);
    v128.store(oc, a2, 32);
    v128.store(oc, a3, 48);
  }
  for (; c < n; c++) {
    let a: f32 = 0;
    for (let s = 0; s < m; s++) a += load<f32>(p + (<usize>s << 2)) * load<f32>(v + <usize>s * stride + (<usize>c << 2));
    store<f32>(o + (<usize>c << 2), a);
  }
}

/** p[0..n) = softmax(p[0..n)) in place, the exponentials four at a time. */
// @ts-ignore: decorator
@inline function softmax(p: usize, n: i32): void {
  let mx: f32 = -Infinity;
  for (let s = 0; s < n; s++) mx = max(mx, load<f32>(p + (<usize>s << 2)));
  const m4 = f32x4.splat(mx);
  let sum4 = f32x4.splat(0);
  let s = 0;
  for (; s + 4 <= n; s += 4) {
    const e = exp4(f32x4.sub(v128.load(p + (<usize>s << 2)), m4));
    v128.store(p + (<usize>s << 2), e);
    sum4 = f32x4.add(sum4, e);
  }
  let sum = hsum(sum4);
  for (; s < n; s++) {
    const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(p + (<usize>s << 2)) - mx)), 0);
    store<f32>(p + (<usize>s << 2), e);
    sum += e;
  }
  const inv: f32 = 1 / sum;
  for (let s = 0; s < n; s++) store<f32>(p + (<usize>s << 2), load<f32>(p + (<usize>s << 2)) * inv);
}

/** o[0..n) += w * v[0..n) */
// @ts-ignore: decorator
@inline function axpy(o: usize, v: usize, w: f32, n: i32): void {
  const ww = f32x4.splat(w);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const oo = o + (<usize>i << 2);
    v128.store(oo, f32x4.add(v128.load(oo), f32x4.mul(ww, v128.load(v + (<usize>i << 2)))));
  }
  for (; i < n; i++) store<f32>(o + (<usize>i << 2), load<f32>(o + (<usize>i << 2)) + w * load<f32>(v + (<usize>i << 2)));
}

/**
 * q [T, nHeads, hd], k/v [ctx, nKv, hd] -> out [T, nHeads, hd]. Item i = t * nKv + g: token t's heads that share
 * KV head g, so each K and V row is read once for the whole group (from L1 for all but the first head) instead
 * of once per head; per head one dot per position. p holds group * (pos0 + T) scores.
 */
export function attention(out: usize, q: usize, k: usize, v: usize, T: i32, pos0: i32, nHeads: i32, nKv: i32, hd: i32, scale: f32, p: usize, i0: i32, i1: i32): void {
  const group = nHeads / nKv;
  const kvStride = <usize>(nKv * hd) << 2;
  const hb = <usize>hd << 2;
  for (let it = i0; it < i1; it++) {
    const t = it / nKv;
    const g = it % nKv;
    const n = pos0 + t + 1;
    const pn = <usize>n << 2;
    const h0 = t * nHeads + g * group; // first head of the group in q and out
    const kg = k + <usize>g * hb;
    for (let s = 0; s < n; s++) {
      const kr = kg + <usize>s * kvStride;
      for (let j = 0; j < group; j++) store<f32>(p + <usize>j * pn + (<usize>s << 2), dot(q + <usize>(h0 + j) * hb, kr, hd) * scale);
    }
    for (let j = 0; j < group; j++) softmax(p + <usize>j * pn, n);
    const og = out + <usize>h0 * hb;
    memory.fill(og, 0, <usize>group * hb);
    const vg = v + <usize>g * hb;
    for (let s = 0; s < n; s++) {
      const vr = vg + <usize>s * kvStride;
      for (let j = 0; j < group; j++) axpy(og + <usize>j * hb, vr, load<f32>(p + <usize>j * pn + (<usize>s << 2)), hd);
    }
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
    mix(out + (<usize>(it * rank) << 2), c, <usize>rank << 2, p, n, rank);
  }
}

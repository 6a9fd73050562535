// Prefill (T >= 4) for the k-quants on the plain SIMD build: each weight row is unpacked once into a per-thread
// scratch as i16 values with one f32 scale and one f32 min per 32 elements, then dotted with four tokens at a
// time, so the bit unpacking and widening are paid once per row instead of once per row per token.
//   q4_k: w = (d*sc_b) * q - (dmin*m_b), q in [0, 15]            -> wq = q, ws = d*sc_b, wm = dmin*m_b
//   q6_k: w = d * sc_s * (q - 32) per 16-element sub-block s   -> wq = sc_s*(q-32) (|wq| <= 4096), ws = d, wm = 0
// Activation layout as quant_act.ts: the i16 q rows of q16 (stride16 bytes apart), d f32[T*nb], s i32[T*nb].
// Both builds run it: the relaxed dot would need the rows' bytes, and the unpacked rows here are already i16.
// Scratch per thread: n*2 + nb*8 bytes.

import { f16s, hsum } from "./common";
import { stride16 } from "./quant_act";

/** Unpacks row `wr` of n elements (kind 0 = q4_k, 1 = q6_k) into wq/ws/wm. */
function unpack(kind: i32, wr: usize, n: i32, wq: usize, ws: usize, wm: usize): void {
  const nsb = n >> 8;
  for (let sb = 0; sb < nsb; sb++) {
    const e0 = <usize>(sb << 8);
    if (kind == 0) {
      const wb = wr + <usize>sb * 144;
      const d = f16s(load<u16>(wb));
      const dmin = f16s(load<u16>(wb, 2));
      for (let j = 0; j < 8; j++) {
        let sc: u32;
        let m: u32;
        if (j < 4) {
          sc = load<u8>(wb + 4 + j) & 63;
          m = load<u8>(wb + 8 + j) & 63;
        } else {
          sc = (load<u8>(wb + 8 + j) & 15) | ((load<u8>(wb + j) >> 6) << 4);
          m = (load<u8>(wb + 8 + j) >> 4) | ((load<u8>(wb + 4 + j) >> 6) << 4);
        }
        const b = <usize>((sb << 3) + j);
        store<f32>(ws + (b << 2), d * <f32>sc);
        store<f32>(wm + (b << 2), dmin * <f32>m);
      }
      for (let g = 0; g < 4; g++) {
        for (let h = 0; h < 2; h++) {
          const v = v128.load(wb + 16 + (g << 5) + (h << 4));
          const lo = v128.and(v, i8x16.splat(15));
          const hi = i8x16.shr_u(v, 4);
          const o = wq + ((e0 + (g << 6) + (h << 4)) << 1);
          v128.store(o, i16x8.extend_low_i8x16_u(lo));
          v128.store(o, i16x8.extend_high_i8x16_u(lo), 16);
          v128.store(o, i16x8.extend_low_i8x16_u(hi), 64);
          v128.store(o, i16x8.extend_high_i8x16_u(hi), 80);
        }
      }
    } else {
      const wb = wr + <usize>sb * 210;
      const d = f16s(load<u16>(wb, 208));
      for (let j = 0; j < 8; j++) {
        const b = <usize>((sb << 3) + j);
        store<f32>(ws + (b << 2), d);
        store<f32>(wm + (b << 2), 0);
      }
      for (let h = 0; h < 2; h++) {
        for (let c = 0; c < 2; c++) {
          const qa = v128.load(wb + (h << 6) + (c << 4));
          const qb = v128.load(wb + (h << 6) + 32 + (c << 4));
          const qh = v128.load(wb + 128 + (h << 5) + (c << 4));
          const m4 = i8x16.splat(15);
          const m30 = i8x16.splat(0x30);
          const k32 = i8x16.splat(32);
          const sc = wb + 192 + (h << 3) + c;
          const base = e0 + (h << 7) + (c << 4);
          emit6(i8x16.sub(v128.or(v128.and(qa, m4), v128.and(i8x16.shl(qh, 4), m30)), k32), load<i8>(sc), wq + (base << 1));
          emit6(i8x16.sub(v128.or(v128.and(qb, m4), v128.and(i8x16.shl(qh, 2), m30)), k32), load<i8>(sc + 2), wq + ((base + 32) << 1));
          emit6(i8x16.sub(v128.or(i8x16.shr_u(qa, 4), v128.and(qh, m30)), k32), load<i8>(sc + 4), wq + ((base + 64) << 1));
          emit6(i8x16.sub(v128.or(i8x16.shr_u(qb, 4), v128.and(i8x16.shr_u(qh, 2), m30)), k32), load<i8>(sc + 6), wq + ((base + 96) << 1));
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function emit6(q: v128, sc: i8, o: usize): void {
  const m = i16x8.splat(sc);
  v128.store(o, i16x8.mul(i16x8.extend_low_i8x16_s(q), m));
  v128.store(o, i16x8.mul(i16x8.extend_high_i8x16_s(q), m), 16);
}

// @ts-ignore: decorator
@inline function dot32(w: usize, a: usize): v128 {
  let i = i32x4.dot_i16x8_s(v128.load(w), v128.load(a));
  i = i32x4.add(i, i32x4.dot_i16x8_s(v128.load(w, 16), v128.load(a, 16)));
  i = i32x4.add(i, i32x4.dot_i16x8_s(v128.load(w, 32), v128.load(a, 32)));
  return i32x4.add(i, i32x4.dot_i16x8_s(v128.load(w, 48), v128.load(a, 48)));
}

export function prefill_k(kind: i32, w: usize, stride: i32, r0: i32, r1: i32, n: i32, q16: usize, d: usize, s: usize, T: i32, out: usize, outRows: i32, scratch: usize): void {
  const nb = n >> 5;
  const wq = scratch;
  const ws = scratch + (<usize>n << 1);
  const wm = ws + (<usize>nb << 2);
  const step = stride16(n);
  const dstep = <usize>nb << 2;
  for (let r = r0; r < r1; r++) {
    unpack(kind, w + <usize>r * stride, n, wq, ws, wm);
    let t = 0;
    for (; t + 4 <= T; t += 4) {
      const a0 = q16 + <usize>t * step;
      const ad = d + <usize>t * dstep;
      const as = s + <usize>t * dstep;
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let c2 = f32x4.splat(0);
      let c3 = f32x4.splat(0);
      let m0: f32 = 0;
      let m1: f32 = 0;
      let m2: f32 = 0;
      let m3: f32 = 0;
      for (let b = 0; b < nb; b++) {
        const bo = <usize>b << 2;
        const wp = wq + (<usize>b << 6);
        const sc = load<f32>(ws + bo);
        const mn = load<f32>(wm + bo);
        const ao = a0 + (<usize>b << 6);
        const d0 = load<f32>(ad + bo);
        const d1 = load<f32>(ad + bo + dstep);
        const d2 = load<f32>(ad + bo + 2 * dstep);
        const d3 = load<f32>(ad + bo + 3 * dstep);
        c0 = f32x4.add(c0, f32x4.mul(f32x4.convert_i32x4_s(dot32(wp, ao)), f32x4.splat(sc * d0)));
        c1 = f32x4.add(c1, f32x4.mul(f32x4.convert_i32x4_s(dot32(wp, ao + step)), f32x4.splat(sc * d1)));
        c2 = f32x4.add(c2, f32x4.mul(f32x4.convert_i32x4_s(dot32(wp, ao + 2 * step)), f32x4.splat(sc * d2)));
        c3 = f32x4.add(c3, f32x4.mul(f32x4.convert_i32x4_s(dot32(wp, ao + 3 * step)), f32x4.splat(sc * d3)));
        m0 += mn * d0 * <f32>load<i32>(as + bo);
        m1 += mn * d1 * <f32>load<i32>(as + bo + dstep);
        m2 += mn * d2 * <f32>load<i32>(as + bo + 2 * dstep);
        m3 += mn * d3 * <f32>load<i32>(as + bo + 3 * dstep);
      }
      const ob = out + (<usize>(t * outRows + r) << 2);
      const os = <usize>outRows << 2;
      store<f32>(ob, hsum(c0) - m0);
      store<f32>(ob + os, hsum(c1) - m1);
      store<f32>(ob + 2 * os, hsum(c2) - m2);
      store<f32>(ob + 3 * os, hsum(c3) - m3);
    }
    for (; t < T; t++) {
      const a0 = q16 + <usize>t * step;
      const ad = d + <usize>t * dstep;
      const as = s + <usize>t * dstep;
      let c0 = f32x4.splat(0);
      let m0: f32 = 0;
      for (let b = 0; b < nb; b++) {
        const bo = <usize>b << 2;
        const d0 = load<f32>(ad + bo);
        c0 = f32x4.add(c0, f32x4.mul(f32x4.convert_i32x4_s(dot32(wq + (<usize>b << 6), a0 + (<usize>b << 6))), f32x4.splat(load<f32>(ws + bo) * d0)));
        m0 += load<f32>(wm + bo) * d0 * <f32>load<i32>(as + bo);
      }
      store<f32>(out + (<usize>(t * outRows + r) << 2), hsum(c0) - m0);
    }
  }
}

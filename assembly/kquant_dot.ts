// Decode-path k-quant kernels (Q4_K, Q6_K) times Q8 activations (quant_act.ts); the same calling convention
// as quant_dot.ts: out[t*outRows + r] = dot(W[r], x[t]) for rows [r0, r1) and T tokens. Prefill (T >= 4 on
// the plain build) goes to prefill_k.ts instead. Block layouts are ggml's (src/core/quant/ggml.ts).

import { f16, hsum } from "./common";
import { dot16, row16 } from "./quant_act";

/**
 * 6-bit scale (low 16 bits) and min (high 16 bits) of sub-blocks 2g and 2g+1 of a q4_k block, from its 12 scale
 * bytes read as three u32 words A (bytes 0-3), B (4-7), C (8-11): sub-block j < 4 has sc = A.byte(j) & 63 and
 * m = B.byte(j) & 63; j >= 4 (k = j-4) has sc = C.byte(k) & 15 | (A.byte(k) >> 6) << 4 and
 * m = C.byte(k) >> 4 | (B.byte(k) >> 6) << 4 (ggml get_scale_min_k4, without a load per field).
 */
// @ts-ignore: decorator
@inline function scm(A: u32, B: u32, C: u32, j: i32): u32 {
  if (j < 4) {
    const sh = <u32>(j << 3);
    return ((A >> sh) & 63) | (((B >> sh) & 63) << 16);
  }
  const sh = <u32>((j - 4) << 3);
  const sc = ((C >> sh) & 15) | (((A >> (sh + 6)) & 3) << 4);
  const m = ((C >> (sh + 4)) & 15) | (((B >> (sh + 6)) & 3) << 4);
  return sc | (m << 16);
}

export function mm_q4_k(w: usize, stride: i32, r0: i32, r1: i32, n: i32, q8: usize, q16: usize, d: usize, s: usize, T: i32, out: usize, outRows: i32): void {
  const nb = n >> 5;
  const nsb = n >> 8;
  const mask = i8x16.splat(15);
  for (let r = r0; r < r1; r++) {
    const wr = w + <usize>r * stride;
    for (let t = 0; t < T; t++) {
      const a8 = q8 + <usize>(t * n);
      const a16 = row16(q16, t, n);
      const ad = d + (<usize>(t * nb) << 2);
      const as = s + (<usize>(t * nb) << 2);
      let acc = f32x4.splat(0);
      let mins: f32 = 0;
      for (let sb = 0; sb < nsb; sb++) {
        const wb = wr + <usize>sb * 144;
        const dd = f16(load<u16>(wb));
        const dmin = f16(load<u16>(wb, 2));
        const A = load<u32>(wb, 4);
        const B = load<u32>(wb, 8);
        const C = load<u32>(wb, 12);
        for (let g = 0; g < 4; g++) {
          const v0 = v128.load(wb + 16 + (g << 5));
          const v1 = v128.load(wb + 16 + (g << 5), 16);
          const b = (sb << 3) + (g << 1); // activation block of the low nibbles; b+1 takes the high ones
          const o = <usize>(b << 5);
          let lo = dot16(v128.and(v0, mask), a8, a16, o, i32x4.splat(0));
          lo = dot16(v128.and(v1, mask), a8, a16, o + 16, lo);
          let hi = dot16(i8x16.shr_u(v0, 4), a8, a16, o + 32, i32x4.splat(0));
          hi = dot16(i8x16.shr_u(v1, 4), a8, a16, o + 48, hi);
          const da0 = load<f32>(ad + (<usize>b << 2));
          const da1 = load<f32>(ad + (<usize>(b + 1) << 2));
          const s0 = scm(A, B, C, g << 1);
          const s1 = scm(A, B, C, (g << 1) + 1);
          acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(lo), f32x4.splat(dd * <f32>(s0 & 0xffff) * da0)));
          acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(hi), f32x4.splat(dd * <f32>(s1 & 0xffff) * da1)));
          const sa = as + (<usize>b << 2);
          mins += dmin * (<f32>(s0 >> 16) * da0 * <f32>load<i32>(sa) + <f32>(s1 >> 16) * da1 * <f32>load<i32>(sa, 4));
        }
      }
      store<f32>(out + (<usize>(t * outRows + r) << 2), hsum(acc) - mins);
    }
  }
}

export function mm_q6_k(w: usize, stride: i32, r0: i32, r1: i32, n: i32, q8: usize, q16: usize, d: usize, s: usize, T: i32, out: usize, outRows: i32): void {
  const nb = n >> 5;
  const nsb = n >> 8;
  const m4 = i8x16.splat(15);
  const m30 = i8x16.splat(0x30);
  const k32 = i8x16.splat(32);
  for (let r = r0; r < r1; r++) {
    const wr = w + <usize>r * stride;
    for (let t = 0; t < T; t++) {
      const a8 = q8 + <usize>(t * n);
      const a16 = row16(q16, t, n);
      const ad = d + (<usize>(t * nb) << 2);
      let acc = f32x4.splat(0);
      for (let sb = 0; sb < nsb; sb++) {
        const wb = wr + <usize>sb * 210;
        const dd = f16(load<u16>(wb, 208));
        for (let h = 0; h < 2; h++) {
          // Four 32-element activation blocks per half; lanes c=0/1 cover its elements 0-15 / 16-31.
          let i0 = i32x4.splat(0);
          let i1 = i32x4.splat(0);
          let i2 = i32x4.splat(0);
          let i3 = i32x4.splat(0);
          const sc = wb + 192 + (h << 3);
          const e0 = <usize>((sb << 8) + (h << 7));
          for (let c = 0; c < 2; c++) {
            const qa = v128.load(wb + (h << 6) + (c << 4));
            const qb = v128.load(wb + (h << 6) + 32 + (c << 4));
            const qh = v128.load(wb + 128 + (h << 5) + (c << 4));
            const w1 = i8x16.sub(v128.or(v128.and(qa, m4), v128.and(i8x16.shl(qh, 4), m30)), k32);
            const w2 = i8x16.sub(v128.or(v128.and(qb, m4), v128.and(i8x16.shl(qh, 2), m30)), k32);
            const w3 = i8x16.sub(v128.or(i8x16.shr_u(qa, 4), v128.and(qh, m30)), k32);
            const w4 = i8x16.sub(v128.or(i8x16.shr_u(qb, 4), v128.and(i8x16.shr_u(qh, 2), m30)), k32);
            const o = e0 + (c << 4);
            const cc = <usize>c;
            i0 = i32x4.add(i0, i32x4.mul(dot16(w1, a8, a16, o, i32x4.splat(0)), i32x4.splat(load<i8>(sc + cc))));
            i1 = i32x4.add(i1, i32x4.mul(dot16(w2, a8, a16, o + 32, i32x4.splat(0)), i32x4.splat(load<i8>(sc + cc + 2))));
            i2 = i32x4.add(i2, i32x4.mul(dot16(w3, a8, a16, o + 64, i32x4.splat(0)), i32x4.splat(load<i8>(sc + cc + 4))));
            i3 = i32x4.add(i3, i32x4.mul(dot16(w4, a8, a16, o + 96, i32x4.splat(0)), i32x4.splat(load<i8>(sc + cc + 6))));
          }
          const b = <usize>((sb << 3) + (h << 2));
          const da = ad + (b << 2);
          acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i0), f32x4.splat(dd * load<f32>(da))));
          acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i1), f32x4.splat(dd * load<f32>(da, 4))));
          acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i2), f32x4.splat(dd * load<f32>(da, 8))));
          acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i3), f32x4.splat(dd * load<f32>(da, 12))));
        }
      }
      store<f32>(out + (<usize>(t * outRows + r) << 2), hsum(acc));
    }
  }
}

// Block-quantized weights times Q8 activations (quant_act.ts): out[t*outRows + r] = dot(W[r], x[t]) for rows
// [r0, r1) and T tokens. Rows are the outer loop so a weight row is read from memory once and stays in L1
// while every token's activations pass over it (prefill reads the weights once, not T times).
// Block layouts are ggml's (src/core/quant/ggml.ts describes them byte by byte).

import { f16, hsum } from "./common";
import { dot16, row16 } from "./quant_act";

/** i32x4 partial sums of 16 weights, pre-widened to i16 halves lo/hi, times activation row a16 at element o. */
// @ts-ignore: decorator
@inline function dotW(lo: v128, hi: v128, a16: usize, o: usize, acc: v128): v128 {
  const a = a16 + (o << 1);
  return i32x4.add(acc, i32x4.add(i32x4.dot_i16x8_s(lo, v128.load(a)), i32x4.dot_i16x8_s(hi, v128.load(a, 16))));
}

/**
 * Q8_0: prefill tiles four tokens per pass over a weight row, so each weight block is loaded and widened once
 * for four dot products (plain SIMD build; the relaxed dot widens nothing, so it goes token by token).
 */
export function mm_q8_0(w: usize, stride: i32, r0: i32, r1: i32, n: i32, q8: usize, q16: usize, d: usize, s: usize, T: i32, out: usize, outRows: i32): void {
  const nb = n >> 5;
  const T4 = ASC_FEATURE_RELAXED_SIMD ? 0 : T & ~3;
  for (let r = r0; r < r1; r++) {
    const wr = w + <usize>r * stride;
    for (let t = 0; t < T4; t += 4) {
      const a0 = row16(q16, t, n);
      const step = <usize>n << 1;
      const ad = d + (<usize>(t * nb) << 2);
      const dstep = <usize>nb << 2;
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let c2 = f32x4.splat(0);
      let c3 = f32x4.splat(0);
      for (let b = 0; b < nb; b++) {
        const wb = wr + <usize>b * 34;
        const v0 = v128.load(wb, 2);
        const v1 = v128.load(wb, 18);
        const l0 = i16x8.extend_low_i8x16_s(v0);
        const h0 = i16x8.extend_high_i8x16_s(v0);
        const l1 = i16x8.extend_low_i8x16_s(v1);
        const h1 = i16x8.extend_high_i8x16_s(v1);
        const dw = f16(load<u16>(wb));
        const o = <usize>(b << 5);
        const db = ad + (<usize>b << 2);
        let i = dotW(l1, h1, a0, o + 16, dotW(l0, h0, a0, o, i32x4.splat(0)));
        c0 = f32x4.add(c0, f32x4.mul(f32x4.convert_i32x4_s(i), f32x4.splat(dw * load<f32>(db))));
        i = dotW(l1, h1, a0 + step, o + 16, dotW(l0, h0, a0 + step, o, i32x4.splat(0)));
        c1 = f32x4.add(c1, f32x4.mul(f32x4.convert_i32x4_s(i), f32x4.splat(dw * load<f32>(db + dstep))));
        i = dotW(l1, h1, a0 + 2 * step, o + 16, dotW(l0, h0, a0 + 2 * step, o, i32x4.splat(0)));
        c2 = f32x4.add(c2, f32x4.mul(f32x4.convert_i32x4_s(i), f32x4.splat(dw * load<f32>(db + 2 * dstep))));
        i = dotW(l1, h1, a0 + 3 * step, o + 16, dotW(l0, h0, a0 + 3 * step, o, i32x4.splat(0)));
        c3 = f32x4.add(c3, f32x4.mul(f32x4.convert_i32x4_s(i), f32x4.splat(dw * load<f32>(db + 3 * dstep))));
      }
      const ob = out + (<usize>(t * outRows + r) << 2);
      const os = <usize>outRows << 2;
      store<f32>(ob, hsum(c0));
      store<f32>(ob + os, hsum(c1));
      store<f32>(ob + 2 * os, hsum(c2));
      store<f32>(ob + 3 * os, hsum(c3));
    }
    for (let t = T4; t < T; t++) {
      const a8 = q8 + <usize>(t * n);
      const a16 = row16(q16, t, n);
      const ad = d + (<usize>(t * nb) << 2);
      let acc = f32x4.splat(0);
      for (let b = 0; b < nb; b++) {
        const wb = wr + <usize>b * 34;
        const o = <usize>(b << 5);
        let i = dot16(v128.load(wb, 2), a8, a16, o, i32x4.splat(0));
        i = dot16(v128.load(wb, 18), a8, a16, o + 16, i);
        acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i), f32x4.splat(f16(load<u16>(wb)) * load<f32>(ad + (<usize>b << 2)))));
      }
      store<f32>(out + (<usize>(t * outRows + r) << 2), hsum(acc));
    }
  }
}

export function mm_q4_0(w: usize, stride: i32, r0: i32, r1: i32, n: i32, q8: usize, q16: usize, d: usize, s: usize, T: i32, out: usize, outRows: i32): void {
  const nb = n >> 5;
  const mask = i8x16.splat(15);
  const eight = i8x16.splat(8);
  for (let r = r0; r < r1; r++) {
    const wr = w + <usize>r * stride;
    for (let t = 0; t < T; t++) {
      const a8 = q8 + <usize>(t * n);
      const a16 = row16(q16, t, n);
      const ad = d + (<usize>(t * nb) << 2);
      let acc = f32x4.splat(0);
      for (let b = 0; b < nb; b++) {
        const wb = wr + <usize>b * 18;
        const v = v128.load(wb, 2);
        const o = <usize>(b << 5);
        let i = dot16(i8x16.sub(v128.and(v, mask), eight), a8, a16, o, i32x4.splat(0));
        i = dot16(i8x16.sub(i8x16.shr_u(v, 4), eight), a8, a16, o + 16, i);
        acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i), f32x4.splat(f16(load<u16>(wb)) * load<f32>(ad + (<usize>b << 2)))));
      }
      store<f32>(out + (<usize>(t * outRows + r) << 2), hsum(acc));
    }
  }
}

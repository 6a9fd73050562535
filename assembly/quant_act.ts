// Activations quantized on the fly to Q8 blocks of 32, so the quantized-weight inner loops are int8 x int8.
// Layout for T rows of n values (n a multiple of 32, nb = n/32), all four regions caller-provided:
//   q8 i8[T*n] = q (both builds)
//   q16: token t's row at row16(q16, t, n), stride16(n) bytes: i16[n] = q widened (saves the widening in every
//        row's dot); the relaxed-SIMD build follows it with u8[n] = max(q, 0), u8[n] = max(-q, 0), and per
//        128 elements eight i32 32 * (sum of q over 16 elements), for the sub-blocks at 0, 32, 64, 96, 16, 48,
//        80, 112 (the lane order of kquant_dot.ts chunkQ6: Q6_K's -32 offset, subtracted once per four sub-blocks)
//   d f32[T*nb]: block scale (x ~ d*q);   s i32[T*nb]: sum of q over the block (for the q4_k mins)
//   qx (when non-zero; prefill): q and d once more, four tokens interleaved per group (prefill_q8.ts's layout)
// The relaxed dot (i16x8.relaxed_dot_i8x16_i7x16_s, one pmaddubsw) is exact only while its second operand is in
// [0, 127]. Unsigned weights (k-quant and Q4_0 nibbles, Q6_K's 6-bit values) go there directly against the
// signed q. Q8_0's signed weight bytes go first, against max(q, 0) and max(-q, 0), and the two dots are
// subtracted: exact for every weight byte, -128 included (moving q's sign onto the weight, llama.cpp's AVX2
// trick, is not: -(-128) wraps).

import { hsumi } from "./common";
import { qxGroup } from "./prefill_q8";

/** Bytes of one token's q16 row (see above); src/kernels/wasm.ts q16Bytes mirrors it. */
// @ts-ignore: decorator
@inline export function stride16(n: i32): usize {
  return ASC_FEATURE_RELAXED_SIMD ? (<usize>n << 2) + (<usize>((n + 127) >> 7) << 5) : <usize>n << 1;
}

export function quantize_q8(x: usize, T: i32, n: i32, q8: usize, q16: usize, d: usize, s: usize, qx: usize, tq: i32): void {
  const nb = n >> 5;
  for (let t = 0; t < T; t++) {
    const r16 = row16(q16, t, n);
    // Token tq + t's place in qx (prefill_q8.ts: four tokens interleaved per group), when asked for
    const xt = qx ? qx + <usize>((tq + t) >> 2) * qxGroup(n) + (<usize>((tq + t) & 3) << 2) : 0;
    for (let b = 0; b < nb; b++) {
      const xb = x + (<usize>(t * n + b * 32) << 2);
      let m = f32x4.splat(0);
      for (let i = 0; i < 8; i++) m = f32x4.max(m, f32x4.abs(v128.load(xb + (i << 4))));
      const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
      const dd: f32 = amax / 127;
      const id = f32x4.splat(dd > 0 ? 1 / dd : 0);
      store<f32>(d + (<usize>(t * nb + b) << 2), dd);
      if (xt) store<f32>(xt + (<usize>n << 3) + (<usize>b << 4), dd);
      let sum = i32x4.splat(0);
      for (let h = 0; h < 2; h++) {
        const xh = xb + (h << 6);
        const a = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xh), id)));
        const bb = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xh, 16), id)));
        const c = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xh, 32), id)));
        const e = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xh, 48), id)));
        const v = i32x4.add(i32x4.add(a, bb), i32x4.add(c, e)); // this 16-run's q, summed in lanes
        sum = i32x4.add(sum, v);
        const lo = i16x8.narrow_i32x4_s(a, bb);
        const hi = i16x8.narrow_i32x4_s(c, e);
        const q = i8x16.narrow_i16x8_s(lo, hi);
        const el = <usize>(b * 32 + h * 16); // element within the row
        v128.store(q8 + <usize>(t * n) + el, q);
        v128.store(r16 + (el << 1), lo);
        v128.store(r16 + (el << 1), hi, 16);
        if (xt) {
          const xp = xt + (el << 3); // element pair el / 2, 16 bytes per pair
          v128.store32_lane(xp, lo, 0);
          v128.store32_lane(xp, lo, 1, 16);
          v128.store32_lane(xp, lo, 2, 32);
          v128.store32_lane(xp, lo, 3, 48);
          v128.store32_lane(xp, hi, 0, 64);
          v128.store32_lane(xp, hi, 1, 80);
          v128.store32_lane(xp, hi, 2, 96);
          v128.store32_lane(xp, hi, 3, 112);
        }
        if (ASC_FEATURE_RELAXED_SIMD) {
          const z = i8x16.splat(0);
          v128.store(r16 + (<usize>n << 1) + el, i8x16.max_s(q, z));
          v128.store(r16 + <usize>n * 3 + el, i8x16.max_s(i8x16.neg(q), z)); // |q| <= 127: no wrap
          const p = (el & 127) >> 4; // this 16-run's place in its 128 elements -> chunkQ6's lane order
          store<i32>(r16 + (<usize>n << 2) + ((el >> 7) << 5) + (<usize>(((p & 1) << 2) + (p >> 1)) << 2), hsumi(v) << 5);
        }
      }
      store<i32>(s + (<usize>(t * nb + b) << 2), hsumi(sum));
    }
  }
}

/** Rows [t0, t1) of quantize_q8's job (same regions): the pool splits a prefill's quantization by rows. */
export function quantize_rows(x: usize, n: i32, q8: usize, q16: usize, d: usize, s: usize, t0: i32, t1: i32, qx: usize): void {
  const nb = n >> 5;
  quantize_q8(x + (<usize>(t0 * n) << 2), t1 - t0, n, q8 + <usize>(t0 * n), row16(q16, t0, n), d + (<usize>(t0 * nb) << 2), s + (<usize>(t0 * nb) << 2), qx, t0);
}

/**
 * Relaxed build: i16x8 pair sums of x[i] * u[i] (one pmaddubsw), x any signed bytes, u bytes in [0, 127].
 * |each lane| <= 2 * 128 * 127 < 2^15; with u <= 63 (the k-quants) a few results add in i16 before widening.
 */
// @ts-ignore: decorator
@inline export function udot(x: v128, u: v128): v128 {
  // The i16x8 form plus a pairwise add, not i32x4.relaxed_dot_i8x16_i7x16_add_s: V8 11.3 (Node 20) returns
  // twice the sum from the fused i32 form.
  return i16x8.relaxed_dot_i8x16_i7x16_s(x, u);
}

/** Start of activation row t in q16. */
// @ts-ignore: decorator
@inline export function row16(q16: usize, t: i32, n: i32): usize {
  return q16 + <usize>t * stride16(n);
}

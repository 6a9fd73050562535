// Activations quantized on the fly to Q8 blocks of 32, so the quantized-weight inner loops are int8 x int8.
// Layout for T rows of n values (n a multiple of 32, nb = n/32), all four regions caller-provided:
//   plain SIMD build:   q8 i8[T*n] = q,   q16 i16[T*n] = q widened (saves the widening in every row's dot)
//   relaxed-SIMD build: q8 u8[T*n] = |q|, q16 first T*n bytes = sign mask (0 or -1) of q
//   d f32[T*nb]: block scale (x ~ d*q);   s i32[T*nb]: sum of q over the block (for the q4_k mins)
// The relaxed dot (relaxed_dot_i8x16_i7x16) wants its second operand in [0, 127]; the kernels feed
// it |q| and move the sign onto the weight (q = |q| * sign), as llama.cpp's AVX2 path does with maddubs.

export function quantize_q8(x: usize, T: i32, n: i32, q8: usize, q16: usize, d: usize, s: usize): void {
  const nb = n >> 5;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < nb; b++) {
      const xb = x + (<usize>(t * n + b * 32) << 2);
      let m = f32x4.splat(0);
      for (let i = 0; i < 8; i++) m = f32x4.max(m, f32x4.abs(v128.load(xb + (i << 4))));
      const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
      const dd: f32 = amax / 127;
      const id = f32x4.splat(dd > 0 ? 1 / dd : 0);
      store<f32>(d + (<usize>(t * nb + b) << 2), dd);
      let sum = i32x4.splat(0);
      const qo = <usize>(t * n + b * 32);
      for (let h = 0; h < 2; h++) {
        const xh = xb + (h << 6);
        const a = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xh), id)));
        const bb = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xh, 16), id)));
        const c = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xh, 32), id)));
        const e = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xh, 48), id)));
        sum = i32x4.add(sum, i32x4.add(i32x4.add(a, bb), i32x4.add(c, e)));
        const lo = i16x8.narrow_i32x4_s(a, bb);
        const hi = i16x8.narrow_i32x4_s(c, e);
        const q = i8x16.narrow_i16x8_s(lo, hi);
        const o = qo + (h << 4);
        if (ASC_FEATURE_RELAXED_SIMD) {
          v128.store(q8 + o, i8x16.abs(q));
          v128.store(q16 + o, i8x16.shr_s(q, 7));
        } else {
          v128.store(q8 + o, q);
          v128.store(q16 + (o << 1), lo);
          v128.store(q16 + (o << 1), hi, 16);
        }
      }
      store<i32>(s + (<usize>(t * nb + b) << 2), i32x4.extract_lane(sum, 0) + i32x4.extract_lane(sum, 1) + i32x4.extract_lane(sum, 2) + i32x4.extract_lane(sum, 3));
    }
  }
}

/** Rows [t0, t1) of quantize_q8's job (same regions): the pool splits a prefill's quantization by rows. */
export function quantize_rows(x: usize, n: i32, q8: usize, q16: usize, d: usize, s: usize, t0: i32, t1: i32): void {
  const nb = n >> 5;
  quantize_q8(x + (<usize>(t0 * n) << 2), t1 - t0, n, q8 + <usize>(t0 * n), row16(q16, t0, n), d + (<usize>(t0 * nb) << 2), s + (<usize>(t0 * nb) << 2));
}

/**
 * i32x4 partial sums of w[0..16) * q[o..o+16) for one activation row: w signed int8 lanes (|w| <= 127).
 * q8/q16 point at the activation row; o is the element offset within it.
 */
// @ts-ignore: decorator
@inline export function dot16(w: v128, q8: usize, q16: usize, o: usize, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const sgn = v128.load(q16 + o);
    const ws = i8x16.sub(v128.xor(w, sgn), sgn);
    // The i16x8 form plus a pairwise add, not i32x4.relaxed_dot_i8x16_i7x16_add_s: V8 11.3 (Node 20, behind
    // --experimental-wasm-relaxed-simd) returns twice the sum from the fused i32 form.
    return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(ws, v128.load(q8 + o))));
  } else {
    const a = q16 + (o << 1);
    acc = i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w), v128.load(a)));
    return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w), v128.load(a, 16)));
  }
}

/** Start of activation row t in q16 (i16 values on the plain build, sign bytes on the relaxed one). */
// @ts-ignore: decorator
@inline export function row16(q16: usize, t: i32, n: i32): usize {
  return ASC_FEATURE_RELAXED_SIMD ? q16 + <usize>(t * n) : q16 + (<usize>(t * n) << 1);
}

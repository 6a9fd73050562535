// Helpers shared by the kernel families. Every kernel takes raw byte offsets into the one imported (shared)
// memory and allocates nothing: the same module is instantiated on many threads over many arenas.

/** 2^112: rebiases an f16 exponent placed in an f32 (f16, and quant_dot.ts f16x4 per lane). */
export const P112: f32 = 5.192296858534828e33;

/**
 * f16 bits -> f32 for finite values, subnormals included (Inf/NaN come out large and finite, which no block
 * scale ever holds). The sign-extended i16 shifted left 13 leaves the sign in bit 31 and exponent/mantissa in
 * bits 27..13 (the mask drops the sign copies in 30..28), so one multiply by 2^112 rebiases and carries the
 * sign. Few ops, for the per-32-block scales of Q8_0/Q4_0 in the innermost loop; but a subnormal f16 passes
 * through a subnormal f32 here, and x86 takes a microcode assist on the multiply (f16s avoids that).
 */
// @ts-ignore: decorator
@inline export function f16(h: u32): f32 {
  return reinterpret<f32>((<i32><i16>h << 13) & 0x8fffe000) * P112;
}

/**
 * f16 -> f32 never through an f32 subnormal: normal values rebias the exponent in integer arithmetic,
 * subnormals are their mantissa times 2^-24. For the k-quants' per-superblock scales, where a tiny d is common
 * (a Q6_K superblock of small weights) and the old path ran the whole q6_k kernel 2x slower.
 */
// @ts-ignore: decorator
@inline export function f16s(h: u32): f32 {
  const m = h & 0x7fff;
  const v = m > 0x3ff ? reinterpret<f32>((m << 13) + (112 << 23)) : <f32>m * 5.9604644775390625e-8;
  return reinterpret<f32>(reinterpret<u32>(v) | ((h & 0x8000) << 16));
}

/**
 * Row k of rows [r0, r0 + nr) in the decode kernels' order: four quarters interleaved (r0, r0 + q, r0 + 2q, r0 +
 * 3q, r0 + 1, ...; q = nr / 4, the nr % 4 last rows in order at the end), so each thread reads four sequential
 * streams of weights and the paired-row kernels take rows from two of them at a time: more memory requests in
 * flight per thread, which one stream's loads alone did not keep. One thread, DRAM-resident 8960x1536 Q8_0: one
 * stream 6.1 GB/s, two 8.8 (session 11's Xeon); on the AMX Xeon of session 12 four beat two by 1.14x (in the
 * model: decode 1.09x), eight no more.
 */
// @ts-ignore: decorator
@inline export function rowAt(r0: i32, nr: i32, k: i32): i32 {
  const q = nr >> 2;
  return r0 + (k < q << 2 ? (k & 3) * q + (k >> 2) : k);
}

/**
 * a * b + c: one fused multiply-add on the relaxed build (f32x4.relaxed_madd, vfmadd where the CPU has FMA;
 * rounded once, so results differ from the plain build's in the last bits), a multiply and an add otherwise.
 */
// @ts-ignore: decorator
@inline export function fma(a: v128, b: v128, c: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? f32x4.relaxed_madd(a, b, c) : f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline export function hsumi(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/** [a0+a2, a1+a3, b0+b2, b1+b3]: the first half of reducing four blocks' i32x4 dots to one i32x4. */
// @ts-ignore: decorator
@inline export function pair(a: v128, b: v128): v128 {
  return i32x4.add(v128.shuffle<i32>(a, b, 0, 1, 4, 5), v128.shuffle<i32>(a, b, 2, 3, 6, 7));
}

/** [sum(a), sum(b), sum(c), sum(d)] from pair(a, b) and pair(c, d): four blocks' dots side by side. */
// @ts-ignore: decorator
@inline export function quad(u: v128, v: v128): v128 {
  return i32x4.add(v128.shuffle<i32>(u, v, 0, 2, 4, 6), v128.shuffle<i32>(u, v, 1, 3, 5, 7));
}

/**
 * Returns v after storing its lane 0 to op (an output slot that the real result overwrites later). The store
 * is a scheduling fence for V8 11.3: TurboFan sinks pure SIMD ops to their last use, so without it every load
 * of a group of blocks is issued first and their values spill (a 2x slower loop); the store makes v's
 * computation come before the loads that follow it in the source. One movss.
 */
// @ts-ignore: decorator
@inline export function pin(op: usize, v: v128): v128 {
  v128.store32_lane(op, v, 0);
  return v;
}

/**
 * e^x for f32x4, |rel err| < 2e-7 over [-87, 88] (inputs clamped there): x = n ln2 + r with |r| <= ln2/2
 * (ln2 split in two so r keeps its low bits), a degree-6 polynomial for e^r (Cephes' expf coefficients),
 * and 2^n built in the exponent field.
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1.0));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}


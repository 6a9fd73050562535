// Helpers shared by the kernel families. Every kernel takes raw byte offsets into the one imported (shared)
// memory and allocates nothing: the same module is instantiated on many threads over many arenas.

/**
 * f16 bits -> f32 for finite values, subnormals included (Inf/NaN come out large and finite, which no block
 * scale ever holds): shift the magnitude into an f32 and rescale by 2^112. Four cheap ops, for the per-32-block
 * scales of Q8_0/Q4_0 where it sits in the innermost loop; but a subnormal f16 passes through a subnormal f32
 * here, and x86 takes a microcode assist on the multiply (f16s avoids that at the cost of a select).
 */
// @ts-ignore: decorator
@inline export function f16(h: u32): f32 {
  const mag = reinterpret<f32>((h & 0x7fff) << 13) * 5.192296858534828e33; // 2^112
  return reinterpret<f32>(reinterpret<u32>(mag) | ((h & 0x8000) << 16));
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

// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline export function hsumi(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

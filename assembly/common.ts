// Helpers shared by the kernel families. Every kernel takes raw byte offsets into the one imported (shared)
// memory and allocates nothing: the same module is instantiated on many threads over many arenas.

/** f16 bits -> f32 for finite values (subnormals included): shift the magnitude into an f32 and rescale by
 *  2^112 (the exponent-bias gap). Inf/NaN come out large and finite, which no block scale ever holds. */
// @ts-ignore: decorator
@inline export function f16(h: u32): f32 {
  const mag = reinterpret<f32>((h & 0x7fff) << 13) * 5.192296858534828e33; // 2^112
  return reinterpret<f32>(reinterpret<u32>(mag) | ((h & 0x8000) << 16));
}

// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline export function hsumi(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

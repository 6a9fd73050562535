// E4M3 quantize-dequantize for the trainer's FP8 emulation (src/train/precision.ts quantRows / quantCols, whose
// loops are the reference): bit for bit the reference's arithmetic, which is JS's, so in f64 where it is f64.
// Per element: v = x / s in f64; |v| >= 448 saturates; below 2^-6 the E4M3 step is 2^-9 (nearest, ties to
// even, on the f64 quotient); above, the quotient is rounded to f32 and its mantissa to 3 bits in the bit
// pattern; the result times s, rounded to f32. Scales s = max(amax, 1e-4) / 448 in f64 over f32 amaxes.

const E4M3_MAX: f64 = 448;

// @ts-ignore: decorator
@inline function qdq(x: f32, s: f64): f32 {
  const v = <f64>x / s;
  const a = abs(v);
  let out: f64;
  if (a >= E4M3_MAX) out = E4M3_MAX;
  else if (a < 0.015625) out = nearest(a * 512) / 512;
  else {
    const u = reinterpret<u32>(<f32>a);
    out = <f64>reinterpret<f32>((u + 0x7ffff + ((u >> 20) & 1)) & 0xfff00000);
  }
  return <f32>((v < 0 ? -out : out) * s);
}

// @ts-ignore: decorator
@inline function scaleOf(amax: f32): f64 {
  return max(<f64>amax, 1e-4) / E4M3_MAX;
}

/**
 * qdq of two f64 quotients' sources at once (lanes of x, promoted), all three cases computed and selected, so
 * that no branch depends on the data; returns the two results as f32 in lanes 0 and 1.
 */
// @ts-ignore: decorator
@inline function qdq2(x: v128, s: v128): v128 {
  const v = f64x2.div(x, s);
  const a = f64x2.abs(v);
  const sub = f64x2.mul(f64x2.nearest(f64x2.mul(a, f64x2.splat(512))), f64x2.splat(1.0 / 512));
  const u = f32x4.demote_f64x2_zero(a);
  const r = v128.and(i32x4.add(i32x4.add(u, i32x4.splat(0x7ffff)), v128.and(i32x4.shr_u(u, 20), i32x4.splat(1))), i32x4.splat(0xfff00000));
  let out = v128.bitselect(sub, f64x2.promote_low_f32x4(r), f64x2.lt(a, f64x2.splat(0.015625)));
  out = v128.bitselect(f64x2.splat(E4M3_MAX), out, f64x2.ge(a, f64x2.splat(E4M3_MAX)));
  out = v128.bitselect(f64x2.neg(out), out, f64x2.lt(v, f64x2.splat(0)));
  return f32x4.demote_f64x2_zero(f64x2.mul(out, s));
}

/** Four floats at x quantize-dequantized with the f64x2 scales s01 (lanes 0, 1) and s23 (lanes 2, 3), stored at y. */
// @ts-ignore: decorator
@inline function qdq4(x: usize, y: usize, s01: v128, s23: v128): void {
  const xv = v128.load(x);
  const lo = qdq2(f64x2.promote_low_f32x4(xv), s01);
  const hi = qdq2(f64x2.promote_low_f32x4(v128.shuffle<f32>(xv, xv, 2, 3, 0, 1)), s23);
  v128.store(y, v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
}

/** y [N, K] = x quantize-dequantized in 1 x tile tiles along K (activations; one token's tile shares a scale). */
export function quant_rows(x: usize, y: usize, N: i32, K: i32, tile: i32): void {
  for (let n = 0; n < N; n++) {
    const xr = x + (<usize>(n * K) << 2);
    const yr = y + (<usize>(n * K) << 2);
    for (let k0 = 0; k0 < K; k0 += tile) {
      const end = min(K, k0 + tile);
      const end4 = k0 + ((end - k0) & ~3);
      let m = f32x4.splat(0);
      for (let k = k0; k < end4; k += 4) m = f32x4.max(m, f32x4.abs(v128.load(xr + (<usize>k << 2))));
      let amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
      for (let k = end4; k < end; k++) amax = max(amax, abs(load<f32>(xr + (<usize>k << 2))));
      const s = scaleOf(amax);
      const sv = f64x2.splat(s);
      for (let k = k0; k < end4; k += 4) qdq4(xr + (<usize>k << 2), yr + (<usize>k << 2), sv, sv);
      for (let k = end4; k < end; k++) store<f32>(yr + (<usize>k << 2), qdq(load<f32>(xr + (<usize>k << 2)), s));
    }
  }
}

/**
 * y [N, K] = x quantize-dequantized in tile x 1 tiles along N (the weight gradient's inputs: one channel over
 * a tile of tokens shares a scale); scratch: K f32 amaxes, then K f64 scales (8-byte aligned).
 */
export function quant_cols(x: usize, y: usize, N: i32, K: i32, tile: i32, scratch: usize): void {
  const K4 = K & ~3;
  const amax = scratch;
  const sc = (scratch + (<usize>K << 2) + 7) & ~7;
  for (let n0 = 0; n0 < N; n0 += tile) {
    const end = min(N, n0 + tile);
    memory.fill(amax, 0, <usize>K << 2);
    for (let n = n0; n < end; n++) {
      const xr = x + (<usize>(n * K) << 2);
      let k = 0;
      for (; k < K4; k += 4) {
        const p = amax + (<usize>k << 2);
        v128.store(p, f32x4.max(v128.load(p), f32x4.abs(v128.load(xr + (<usize>k << 2)))));
      }
      for (; k < K; k++) {
        const p = amax + (<usize>k << 2);
        store<f32>(p, max(load<f32>(p), abs(load<f32>(xr + (<usize>k << 2)))));
      }
    }
    for (let k = 0; k < K; k++) store<f64>(sc + (<usize>k << 3), scaleOf(load<f32>(amax + (<usize>k << 2))));
    for (let n = n0; n < end; n++) {
      const o = <usize>(n * K) << 2;
      let k = 0;
      for (; k < K4; k += 4) qdq4(x + o + (<usize>k << 2), y + o + (<usize>k << 2), v128.load(sc + (<usize>k << 3)), v128.load(sc + (<usize>k << 3), 16));
      for (; k < K; k++) store<f32>(y + o + (<usize>k << 2), qdq(load<f32>(x + o + (<usize>k << 2)), load<f64>(sc + (<usize>k << 3))));
    }
  }
}

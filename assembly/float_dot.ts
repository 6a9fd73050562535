// Float-encoded weights (f32, bf16, f16, fp8) times f32 activations, decoded in registers in the hot loop:
// out[t*outRows + r] = dot(W[r], x[t*n ..]) for rows [r0, r1) and T tokens (rows outer: one read per weight row).
// Decoding is bit arithmetic, not table lookups (SIMD128 has no gather): bf16 is a shuffle into the top half of
// an f32; f16 and fp8 shift their exponent+mantissa into f32 position and rescale by the exponent-bias gap,
// which is exact for every finite value including subnormals (Inf/NaN weights are not supported).

import { fma, hsum, rowAt } from "./common";

// bf16 -> f32 puts the 16 bits in the top half of a 32-bit lane: an i16 interleave with zero (one punpcklwd /
// punpckhwd). It replaced widen-then-shift (pmovzxwd, pslld: two ops per four weights), which had replaced a
// byte shuffle against zero that V8 lowers to two pshufb and an or (mm_bf16 ran slower than mm_f16 with it).
// @ts-ignore: decorator
@inline function bf16lo(v: v128): v128 {
  return v128.shuffle<i16>(i16x8.splat(0), v, 0, 8, 1, 9, 2, 10, 3, 11);
}
// @ts-ignore: decorator
@inline function bf16hi(v: v128): v128 {
  return v128.shuffle<i16>(i16x8.splat(0), v, 4, 12, 5, 13, 6, 14, 7, 15);
}

/** Four f16 (zero-extended into i32 lanes) -> f32x4. */
// @ts-ignore: decorator
@inline function f16x4(h: v128): v128 {
  const mag = f32x4.mul(i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13), f32x4.splat(5.192296858534828e33)); // 2^112
  return v128.or(mag, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/** Four e4m3 bytes (zero-extended into i32 lanes) -> f32x4: bias 7 -> 127 is a factor 2^120. */
// @ts-ignore: decorator
@inline function e4m3x4(b: v128): v128 {
  const mag = f32x4.mul(i32x4.shl(v128.and(b, i32x4.splat(0x7f)), 20), f32x4.splat(1.329227995784916e36));
  return v128.or(mag, i32x4.shl(v128.and(b, i32x4.splat(0x80)), 24));
}

/** Four e5m2 bytes -> f32x4: an e5m2 byte is the top byte of an f16. */
// @ts-ignore: decorator
@inline function e5m2x4(b: v128): v128 {
  return f16x4(i32x4.shl(b, 8));
}

export function mm_f32(w: usize, stride: i32, r0: i32, r1: i32, n: i32, x: usize, T: i32, out: usize, outRows: i32): void {
  const n8 = n & ~7;
  for (let k = 0; k < r1 - r0; k++) {
    const r = rowAt(r0, r1 - r0, k);
    const wr = w + <usize>r * stride;
    for (let t = 0; t < T; t++) {
      const xr = x + (<usize>(t * n) << 2);
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let i = 0;
      for (; i < n8; i += 8) {
        const o = <usize>i << 2;
        a0 = f32x4.add(a0, f32x4.mul(v128.load(wr + o), v128.load(xr + o)));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(wr + o, 16), v128.load(xr + o, 16)));
      }
      let acc = hsum(f32x4.add(a0, a1));
      for (; i < n; i++) acc += load<f32>(wr + (<usize>i << 2)) * load<f32>(xr + (<usize>i << 2));
      store<f32>(out + (<usize>(t * outRows + r) << 2), acc);
    }
  }
}

/** Dot of bf16 row elements [i, n) with f32 x from element i: the scalar tail after the vector loop. */
// @ts-ignore: decorator
@inline function bf16Tail(wr: usize, xr: usize, i: i32, n: i32): f32 {
  let acc: f32 = 0;
  for (; i < n; i++) acc += reinterpret<f32>(<u32>load<u16>(wr + (<usize>i << 1)) << 16) * load<f32>(xr + (<usize>i << 2));
  return acc;
}

/**
 * BF16 rows, two at a time: rowAt's next two rows (from two of its streams) in one pass, each x vector loaded
 * once for both.
 * Same-process A/B against one row at a time (relaxed builds, means): DRAM-resident 8960x1536 1.13-1.30x on two
 * threads (20-21 GB/s at best, read_bw's 20), 1.19-1.25x on one; 1536x8960 1.29x. An odd last row goes alone.
 */
export function mm_bf16(w: usize, stride: i32, r0: i32, r1: i32, n: i32, x: usize, T: i32, out: usize, outRows: i32): void {
  const n16 = n & ~15;
  const nr = r1 - r0;
  let k = 0;
  for (; k + 1 < nr; k += 2) {
    const rA = rowAt(r0, nr, k);
    const rB = rowAt(r0, nr, k + 1);
    const wA = w + <usize>rA * stride;
    const wB = w + <usize>rB * stride;
    for (let t = 0; t < T; t++) {
      const xr = x + (<usize>(t * n) << 2);
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let b0 = f32x4.splat(0);
      let b1 = f32x4.splat(0);
      let i = 0;
      for (; i < n16; i += 16) {
        const xo = xr + (<usize>i << 2);
        const x0 = v128.load(xo);
        const x1 = v128.load(xo, 16);
        const x2 = v128.load(xo, 32);
        const x3 = v128.load(xo, 48);
        const va = v128.load(wA + (<usize>i << 1));
        const ua = v128.load(wA + (<usize>i << 1), 16);
        a0 = fma(bf16lo(va), x0, a0);
        a1 = fma(bf16hi(va), x1, a1);
        a0 = fma(bf16lo(ua), x2, a0);
        a1 = fma(bf16hi(ua), x3, a1);
        const vb = v128.load(wB + (<usize>i << 1));
        const ub = v128.load(wB + (<usize>i << 1), 16);
        b0 = fma(bf16lo(vb), x0, b0);
        b1 = fma(bf16hi(vb), x1, b1);
        b0 = fma(bf16lo(ub), x2, b0);
        b1 = fma(bf16hi(ub), x3, b1);
      }
      store<f32>(out + (<usize>(t * outRows + rA) << 2), hsum(f32x4.add(a0, a1)) + bf16Tail(wA, xr, i, n));
      store<f32>(out + (<usize>(t * outRows + rB) << 2), hsum(f32x4.add(b0, b1)) + bf16Tail(wB, xr, i, n));
    }
  }
  for (; k < nr; k++) {
    // The pair loop's arithmetic for one row, in the same order: a row's result must not depend on whether it
    // was paired (matmulMany and matmul cut the rows differently, and must agree bit for bit).
    const r = rowAt(r0, nr, k);
    const wr = w + <usize>r * stride;
    for (let t = 0; t < T; t++) {
      const xr = x + (<usize>(t * n) << 2);
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let i = 0;
      for (; i < n16; i += 16) {
        const v = v128.load(wr + (<usize>i << 1));
        const u = v128.load(wr + (<usize>i << 1), 16);
        const xo = xr + (<usize>i << 2);
        a0 = fma(bf16lo(v), v128.load(xo), a0);
        a1 = fma(bf16hi(v), v128.load(xo, 16), a1);
        a0 = fma(bf16lo(u), v128.load(xo, 32), a0);
        a1 = fma(bf16hi(u), v128.load(xo, 48), a1);
      }
      store<f32>(out + (<usize>(t * outRows + r) << 2), hsum(f32x4.add(a0, a1)) + bf16Tail(wr, xr, i, n));
    }
  }
}

export function mm_f16(w: usize, stride: i32, r0: i32, r1: i32, n: i32, x: usize, T: i32, out: usize, outRows: i32): void {
  const n8 = n & ~7;
  for (let k = 0; k < r1 - r0; k++) {
    const r = rowAt(r0, r1 - r0, k);
    const wr = w + <usize>r * stride;
    for (let t = 0; t < T; t++) {
      const xr = x + (<usize>(t * n) << 2);
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let i = 0;
      for (; i < n8; i += 8) {
        const v = v128.load(wr + (<usize>i << 1));
        const xo = xr + (<usize>i << 2);
        a0 = f32x4.add(a0, f32x4.mul(f16x4(i32x4.extend_low_i16x8_u(v)), v128.load(xo)));
        a1 = f32x4.add(a1, f32x4.mul(f16x4(i32x4.extend_high_i16x8_u(v)), v128.load(xo, 16)));
      }
      let acc = hsum(f32x4.add(a0, a1));
      for (; i < n; i++) {
        const h = i32x4.splat(load<u16>(wr + (<usize>i << 1)));
        acc += f32x4.extract_lane(f16x4(h), 0) * load<f32>(xr + (<usize>i << 2));
      }
      store<f32>(out + (<usize>(t * outRows + r) << 2), acc);
    }
  }
}

/**
 * FP8 rows (e5m2 when e5m2 != 0, else e4m3) with DeepSeek's 128x128 block scales: scale f32
 * [ceil(rows/128), scaleCols], row r uses scale row (r + rowOff) >> 7 (rowOff: where this view starts in the
 * matrix the grid belongs to). scale == 0: no scales (plain fp8).
 */
export function mm_f8(w: usize, stride: i32, r0: i32, r1: i32, n: i32, x: usize, T: i32, out: usize, outRows: i32, scale: usize, scaleCols: i32, rowOff: i32, e5m2: i32): void {
  for (let k = 0; k < r1 - r0; k++) {
    const r = rowAt(r0, r1 - r0, k);
    const wr = w + <usize>r * stride;
    const srow = scale + (<usize>(((r + rowOff) >> 7) * scaleCols) << 2);
    for (let t = 0; t < T; t++) {
      const xr = x + (<usize>(t * n) << 2);
      let acc: f32 = 0;
      for (let b0 = 0; b0 < n; b0 += 128) {
        const end = min(n, b0 + 128);
        const e16 = b0 + ((end - b0) & ~15);
        let a0 = f32x4.splat(0);
        let a1 = f32x4.splat(0);
        let i = b0;
        for (; i < e16; i += 16) {
          const v = v128.load(wr + <usize>i);
          const lo = i16x8.extend_low_i8x16_u(v);
          const hi = i16x8.extend_high_i8x16_u(v);
          const xo = xr + (<usize>i << 2);
          if (e5m2) {
            a0 = f32x4.add(a0, f32x4.mul(e5m2x4(i32x4.extend_low_i16x8_u(lo)), v128.load(xo)));
            a1 = f32x4.add(a1, f32x4.mul(e5m2x4(i32x4.extend_high_i16x8_u(lo)), v128.load(xo, 16)));
            a0 = f32x4.add(a0, f32x4.mul(e5m2x4(i32x4.extend_low_i16x8_u(hi)), v128.load(xo, 32)));
            a1 = f32x4.add(a1, f32x4.mul(e5m2x4(i32x4.extend_high_i16x8_u(hi)), v128.load(xo, 48)));
          } else {
            a0 = f32x4.add(a0, f32x4.mul(e4m3x4(i32x4.extend_low_i16x8_u(lo)), v128.load(xo)));
            a1 = f32x4.add(a1, f32x4.mul(e4m3x4(i32x4.extend_high_i16x8_u(lo)), v128.load(xo, 16)));
            a0 = f32x4.add(a0, f32x4.mul(e4m3x4(i32x4.extend_low_i16x8_u(hi)), v128.load(xo, 32)));
            a1 = f32x4.add(a1, f32x4.mul(e4m3x4(i32x4.extend_high_i16x8_u(hi)), v128.load(xo, 48)));
          }
        }
        let blk = hsum(f32x4.add(a0, a1));
        for (; i < end; i++) {
          const bv = i32x4.splat(load<u8>(wr + <usize>i));
          blk += f32x4.extract_lane(e5m2 ? e5m2x4(bv) : e4m3x4(bv), 0) * load<f32>(xr + (<usize>i << 2));
        }
        acc += scale ? blk * load<f32>(srow + (<usize>(b0 >> 7) << 2)) : blk;
      }
      store<f32>(out + (<usize>(t * outRows + r) << 2), acc);
    }
  }
}

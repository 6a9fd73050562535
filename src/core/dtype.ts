// Scalar conversions between the storage dtypes of real checkpoints and f32. Decoding is table-driven where
// the input has at most 16 bits (f16, e4m3, e5m2), so hot loops do one indexed load per element.

export type DType = "f32" | "f16" | "bf16" | "f8_e4m3" | "f8_e5m2" | "q8_0" | "q4_0" | "q4_k" | "q6_k" | "i32" | "i64";

/** Bytes per element for plain dtypes; block-quantized dtypes answer through blockLayout() instead. */
export const ELEMENT_BYTES: Partial<Record<DType, number>> = {
  f32: 4,
  f16: 2,
  bf16: 2,
  f8_e4m3: 1,
  f8_e5m2: 1,
  i32: 4,
  i64: 8,
};

/** Block-quantized layouts: `elems` weights stored in `bytes` bytes (ggml's block_q8_0, block_q4_0, ...). */
export const BLOCK_LAYOUT: Partial<Record<DType, { elems: number; bytes: number }>> = {
  q8_0: { elems: 32, bytes: 34 },
  q4_0: { elems: 32, bytes: 18 },
  q4_k: { elems: 256, bytes: 144 },
  q6_k: { elems: 256, bytes: 210 },
};

/** Storage bytes for `n` elements of `dtype` along a row (n must be a multiple of the block size). */
export function rowBytes(dtype: DType, n: number): number {
  const e = ELEMENT_BYTES[dtype];
  if (e !== undefined) return e * n;
  const b = BLOCK_LAYOUT[dtype];
  if (!b) throw new Error(`rowBytes: no layout for ${dtype}`);
  return (n / b.elems) * b.bytes;
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

export function bf16ToF32(h: number): number {
  u32buf[0] = h << 16;
  return f32buf[0];
}

/** Round-to-nearest-even, NaN kept quiet (as torch does). */
export function f32ToBf16(x: number): number {
  f32buf[0] = x;
  const u = u32buf[0];
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

function decodeF16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (m / 1024);
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + m / 1024);
}

/** 65536-entry f16 -> f32 table (256 KiB), built once on first use. */
let f16Table: Float32Array | undefined;
export function f16Lut(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = decodeF16(i);
  }
  return f16Table;
}

export function f16ToF32(h: number): number {
  return f16Lut()[h & 0xffff];
}

/** f32 -> f16 bits, round-to-nearest-even, overflow to inf, subnormals kept. */
export function f32ToF16(x: number): number {
  f32buf[0] = x;
  const u = u32buf[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** E4M3FN: bias 7, no infinities, S.1111.111 is NaN, max 448; subnormals 2^-6 * m/8. */
function decodeE4M3(b: number): number {
  const s = b & 0x80 ? -1 : 1;
  const e = (b >>> 3) & 0xf;
  const m = b & 7;
  if (e === 15 && m === 7) return Number.NaN;
  if (e === 0) return s * 2 ** -6 * (m / 8);
  return s * 2 ** (e - 7) * (1 + m / 8);
}

/** E5M2: bias 15, IEEE-like infinities and NaNs (the top byte of an f16). */
function decodeE5M2(b: number): number {
  return decodeF16(b << 8);
}

export const E4M3_LUT: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = decodeE4M3(i);
  return t;
})();

export const E5M2_LUT: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = decodeE5M2(i);
  return t;
})();

export const E4M3_MAX = 448;

/** f32 -> E4M3FN with round-to-nearest-even and saturation to +-448 (torch's cast saturates via clamp first). */
export function f32ToE4M3(x: number): number {
  if (Number.isNaN(x)) return 0x7f;
  const sign = x < 0 || Object.is(x, -0) ? 0x80 : 0;
  let a = Math.abs(x);
  if (a >= E4M3_MAX) return sign | 0x7e;
  // Find the nearest representable magnitude among the 127 finite non-negative codes by binary search.
  let lo = 0;
  let hi = 0x7e;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (E4M3_LUT[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - E4M3_LUT[lo];
  const dh = E4M3_LUT[hi] - a;
  a = dl < dh || (dl === dh && (lo & 1) === 0) ? lo : hi;
  return sign | a;
}

// ggml's block-quantized weight formats as plain loops: the reference the SIMD kernels answer to. Dequantizing
// matches ggml's dequantize_row_* to the bit (f32 arithmetic in ggml's order; JS doubles rounded once to f32
// give the same result for these exact-product-then-one-add expressions). The q8_0 and q4_0 quantizers are
// ggml's reference rounding to the bit; the k-quant quantizers are r1ts's own simpler search, correct to
// the format's error but not byte-identical to llama-quantize.
//
// Block layouts (little-endian, f16 = IEEE half):
//   q8_0 (34 B / 32):  d f16 | qs int8[32]                       x[i] = d*qs[i]
//   q4_0 (18 B / 32):  d f16 | qs u8[16]                         x[j] = d*((qs[j]&15)-8), x[j+16] = d*((qs[j]>>4)-8)
//   q4_k (144 B / 256): d f16 | dmin f16 | scales u8[12] | qs u8[128]
//        8 sub-blocks of 32, each with a 6-bit scale sc and 6-bit min m packed in `scales` (see scaleMinK4);
//        x = d*sc*q - dmin*m. qs[32g + l] holds element 64g + l (low nibble) and 64g + 32 + l (high nibble).
//   q6_k (210 B / 256): ql u8[128] | qh u8[64] | scales int8[16] | d f16
//        16 sub-blocks of 16, x = d*scales[s]*(q-32), q 6 bits: low 4 from ql, high 2 from qh. Each half of
//        128 elements uses ql[64h..64h+63], qh[32h..32h+31]: for l < 32 the four elements l, l+32, l+64, l+96
//        take ql[l]&15, ql[l+32]&15, ql[l]>>4, ql[l+32]>>4 and qh[l] bits 0-1, 2-3, 4-5, 6-7.

import { BLOCK_LAYOUT, type DType, f16Lut, f32ToF16 } from "../dtype.js";

const fround = Math.fround;

function layout(dtype: DType, n: number, what: string): { elems: number; bytes: number; blocks: number } {
  const b = BLOCK_LAYOUT[dtype];
  if (!b) throw new Error(`${what}: ${dtype} is not a block-quantized dtype`);
  if (n % b.elems !== 0) throw new Error(`${what}: ${n} elements is not a multiple of the ${dtype} block (${b.elems})`);
  return { ...b, blocks: n / b.elems };
}

function f16At(bytes: Uint8Array, o: number, lut: Float32Array): number {
  return lut[bytes[o] | (bytes[o + 1] << 8)];
}

function putF16(out: Uint8Array, o: number, x: number): void {
  const h = f32ToF16(x);
  out[o] = h & 0xff;
  out[o + 1] = h >>> 8;
}

/**
 * The 6-bit scale and min of sub-block j (0..7) of a q4_k block, from its 12 `scales` bytes at `o`: bytes 0-3
 * hold sc of j 0-3 in their low 6 bits, bytes 4-7 the mins of j 0-3; bytes 8-11 hold the low 4 bits of sc (low
 * nibble) and m (high nibble) of j 4-7, whose top 2 bits sit in bits 6-7 of bytes 0-3 (sc) and 4-7 (m).
 */
export function scaleMinK4(s: Uint8Array, o: number, j: number): [number, number] {
  if (j < 4) return [s[o + j] & 63, s[o + j + 4] & 63];
  return [(s[o + j + 4] & 0xf) | ((s[o + j - 4] >> 6) << 4), (s[o + j + 4] >> 4) | ((s[o + j] >> 6) << 4)];
}

/** Decode `n` elements (a multiple of the block size) starting at bytes[0] into out[0..n). */
export function dequantizeRow(dtype: DType, bytes: Uint8Array, out: Float32Array, n: number): void {
  const { bytes: bb, blocks } = layout(dtype, n, "dequantizeRow");
  if (bytes.length < blocks * bb)
    throw new Error(`dequantizeRow: ${bytes.length} bytes, ${n} ${dtype} need ${blocks * bb}`);
  if (out.length < n) throw new Error(`dequantizeRow: output holds ${out.length} < ${n}`);
  const lut = f16Lut();
  switch (dtype) {
    case "q8_0":
      for (let b = 0; b < blocks; b++) {
        const o = b * 34;
        const d = f16At(bytes, o, lut);
        for (let i = 0; i < 32; i++) out[b * 32 + i] = d * ((bytes[o + 2 + i] << 24) >> 24);
      }
      return;
    case "q4_0":
      for (let b = 0; b < blocks; b++) {
        const o = b * 18;
        const d = f16At(bytes, o, lut);
        for (let j = 0; j < 16; j++) {
          const q = bytes[o + 2 + j];
          out[b * 32 + j] = d * ((q & 15) - 8);
          out[b * 32 + j + 16] = d * ((q >> 4) - 8);
        }
      }
      return;
    case "q4_k":
      for (let b = 0; b < blocks; b++) {
        const o = b * 144;
        const d = f16At(bytes, o, lut);
        const dmin = f16At(bytes, o + 2, lut);
        for (let g = 0; g < 4; g++) {
          const [sc1, m1] = scaleMinK4(bytes, o + 4, 2 * g);
          const [sc2, m2] = scaleMinK4(bytes, o + 4, 2 * g + 1);
          const d1 = fround(d * sc1);
          const mn1 = fround(dmin * m1);
          const d2 = fround(d * sc2);
          const mn2 = fround(dmin * m2);
          const q = o + 16 + 32 * g;
          const y = b * 256 + 64 * g;
          for (let l = 0; l < 32; l++) {
            out[y + l] = fround(d1 * (bytes[q + l] & 15)) - mn1;
            out[y + 32 + l] = fround(d2 * (bytes[q + l] >> 4)) - mn2;
          }
        }
      }
      return;
    case "q6_k":
      for (let b = 0; b < blocks; b++) {
        const o = b * 210;
        const d = f16At(bytes, o + 208, lut);
        for (let h = 0; h < 2; h++) {
          const ql = o + 64 * h;
          const qh = o + 128 + 32 * h;
          const sc = o + 192 + 8 * h;
          const y = b * 256 + 128 * h;
          for (let l = 0; l < 32; l++) {
            const is = l >> 4;
            const hb = bytes[qh + l];
            const q1 = ((bytes[ql + l] & 15) | ((hb & 3) << 4)) - 32;
            const q2 = ((bytes[ql + l + 32] & 15) | (((hb >> 2) & 3) << 4)) - 32;
            const q3 = ((bytes[ql + l] >> 4) | (((hb >> 4) & 3) << 4)) - 32;
            const q4 = ((bytes[ql + l + 32] >> 4) | (((hb >> 6) & 3) << 4)) - 32;
            out[y + l] = fround(d * ((bytes[sc + is] << 24) >> 24)) * q1;
            out[y + l + 32] = fround(d * ((bytes[sc + is + 2] << 24) >> 24)) * q2;
            out[y + l + 64] = fround(d * ((bytes[sc + is + 4] << 24) >> 24)) * q3;
            out[y + l + 96] = fround(d * ((bytes[sc + is + 6] << 24) >> 24)) * q4;
          }
        }
      }
      return;
    default:
      throw new Error(`dequantizeRow: no decoder for ${dtype}`);
  }
}

/** C's roundf: halves away from zero (Math.round sends -2.5 to -2). */
function roundf(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/** Encode x (length a multiple of the block size) into out, which must hold rowBytes(dtype, x.length). */
export function quantizeRow(dtype: DType, x: Float32Array, out: Uint8Array): void {
  const { bytes: bb, blocks } = layout(dtype, x.length, "quantizeRow");
  if (out.length < blocks * bb) throw new Error(`quantizeRow: output holds ${out.length} < ${blocks * bb} bytes`);
  for (let b = 0; b < blocks; b++) {
    switch (dtype) {
      case "q8_0":
        quantizeQ8_0(x, b * 32, out, b * 34);
        break;
      case "q4_0":
        quantizeQ4_0(x, b * 32, out, b * 18);
        break;
      case "q4_k":
        quantizeQ4_K(x, b * 256, out, b * 144);
        break;
      case "q6_k":
        quantizeQ6_K(x, b * 256, out, b * 210);
        break;
      default:
        throw new Error(`quantizeRow: no encoder for ${dtype}`);
    }
  }
}

// ggml quantize_row_q8_0_ref: d = amax/127, q = roundf(x * (1/d)), all in f32.
function quantizeQ8_0(x: Float32Array, xo: number, out: Uint8Array, o: number): void {
  let amax = 0;
  for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[xo + i]));
  const d = fround(amax / 127);
  const id = d ? fround(1 / d) : 0;
  putF16(out, o, d);
  for (let i = 0; i < 32; i++) out[o + 2 + i] = roundf(fround(x[xo + i] * id)) & 0xff;
}

// ggml quantize_row_q4_0_ref: d = (signed value of largest magnitude) / -8, so that value encodes as q = 0;
// q = min(15, trunc(x/d + 8.5)) in f32.
function quantizeQ4_0(x: Float32Array, xo: number, out: Uint8Array, o: number): void {
  let amax = 0;
  let max = 0;
  for (let i = 0; i < 32; i++) {
    const v = x[xo + i];
    if (amax < Math.abs(v)) {
      amax = Math.abs(v);
      max = v;
    }
  }
  const d = fround(max / -8);
  const id = d ? fround(1 / d) : 0;
  putF16(out, o, d);
  for (let j = 0; j < 16; j++) {
    const q0 = Math.min(15, Math.trunc(fround(fround(x[xo + j] * id) + 8.5)));
    const q1 = Math.min(15, Math.trunc(fround(fround(x[xo + j + 16] * id) + 8.5)));
    out[o + 2 + j] = q0 | (q1 << 4);
  }
}

/**
 * Fit x[o..o+n) ≈ scale*L - min with L in [0, nmax] and min >= 0 (the block minimum, clipped at 0, as in
 * ggml's "type-1" formats): try a spread of step sizes around (max-min)/nmax, refit scale and min by least
 * squares for each rounding, keep the lowest squared error.
 */
function fitAffine(x: Float32Array, o: number, n: number, nmax: number): { scale: number; min: number } {
  let lo = 0;
  let hi = x[o];
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, x[o + i]);
    hi = Math.max(hi, x[o + i]);
  }
  if (hi <= lo) return { scale: 0, min: -lo };
  let best = { scale: (hi - lo) / nmax, min: -lo };
  let bestErr = affineError(x, o, n, nmax, best.scale, best.min);
  let sx = 0;
  for (let i = 0; i < n; i++) sx += x[o + i];
  for (let k = -10; k <= 10; k++) {
    const iscale = (nmax + 0.1 * k) / (hi - lo);
    let sl = 0;
    let sl2 = 0;
    let sxl = 0;
    for (let i = 0; i < n; i++) {
      const l = clamp(Math.round(iscale * (x[o + i] - lo)), 0, nmax);
      sl += l;
      sl2 += l * l;
      sxl += l * x[o + i];
    }
    const det = n * sl2 - sl * sl;
    if (det <= 0) continue;
    let scale = (n * sxl - sx * sl) / det;
    let offset = (sl2 * sx - sl * sxl) / det;
    if (offset > 0) {
      offset = 0;
      scale = sxl / sl2;
    }
    const err = affineError(x, o, n, nmax, scale, -offset);
    if (err < bestErr) {
      bestErr = err;
      best = { scale, min: -offset };
    }
  }
  return best;
}

function affineError(x: Float32Array, o: number, n: number, nmax: number, scale: number, min: number): number {
  if (scale <= 0) return Number.POSITIVE_INFINITY;
  let e = 0;
  for (let i = 0; i < n; i++) {
    const l = clamp(Math.round((x[o + i] + min) / scale), 0, nmax);
    const r = scale * l - min - x[o + i];
    e += r * r;
  }
  return e;
}

function quantizeQ4_K(x: Float32Array, xo: number, out: Uint8Array, o: number): void {
  const scales = new Float64Array(8);
  const mins = new Float64Array(8);
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const f = fitAffine(x, xo + 32 * j, 32, 15);
    scales[j] = f.scale;
    mins[j] = f.min;
    maxScale = Math.max(maxScale, f.scale);
    maxMin = Math.max(maxMin, f.min);
  }
  // Super-block scales: 6-bit multiples of d = maxScale/63 and dmin = maxMin/63.
  const invScale = maxScale > 0 ? 63 / maxScale : 0;
  const invMin = maxMin > 0 ? 63 / maxMin : 0;
  const s = o + 4;
  out.fill(0, s, s + 12);
  for (let j = 0; j < 8; j++) {
    const ls = Math.min(63, Math.round(invScale * scales[j]));
    const lm = Math.min(63, Math.round(invMin * mins[j]));
    if (j < 4) {
      out[s + j] = ls;
      out[s + j + 4] = lm;
    } else {
      out[s + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
      out[s + j - 4] |= (ls >> 4) << 6;
      out[s + j] |= (lm >> 4) << 6;
    }
  }
  putF16(out, o, maxScale / 63);
  putF16(out, o + 2, maxMin / 63);

  // Round each element against the scales as stored (f16 d times 6-bit sc), not the ideal ones.
  const lut = f16Lut();
  const d = f16At(out, o, lut);
  const dmin = f16At(out, o + 2, lut);
  const L = new Uint8Array(256);
  for (let j = 0; j < 8; j++) {
    const [sc, m] = scaleMinK4(out, s, j);
    const dd = fround(d * sc);
    if (!dd) continue;
    const dm = fround(dmin * m);
    for (let i = 0; i < 32; i++) L[32 * j + i] = clamp(Math.round((x[xo + 32 * j + i] + dm) / dd), 0, 15);
  }
  for (let g = 0; g < 4; g++) {
    for (let l = 0; l < 32; l++) out[o + 16 + 32 * g + l] = L[64 * g + l] | (L[64 * g + 32 + l] << 4);
  }
}

/**
 * Symmetric fit x[o..o+16) ≈ scale*L, L in [-32, 31]: the value of largest magnitude maps near -32 (so the
 * scale's sign follows it, as in ggml); a few nearby step sizes are tried and the scale refit by least squares.
 */
function fitSymmetric(x: Float32Array, o: number): number {
  let amax = 0;
  let max = 0;
  for (let i = 0; i < 16; i++) {
    if (Math.abs(x[o + i]) > amax) {
      amax = Math.abs(x[o + i]);
      max = x[o + i];
    }
  }
  if (amax < 1e-15) return 0;
  let best = max / -32;
  let bestErr = Number.POSITIVE_INFINITY;
  for (let k = -9; k <= 9; k++) {
    const iscale = -(32 + 0.1 * k) / max;
    let sxl = 0;
    let sl2 = 0;
    for (let i = 0; i < 16; i++) {
      const l = clamp(Math.round(iscale * x[o + i]), -32, 31);
      sxl += x[o + i] * l;
      sl2 += l * l;
    }
    if (sl2 === 0) continue;
    const scale = sxl / sl2;
    let err = 0;
    for (let i = 0; i < 16; i++) {
      const r = scale * clamp(Math.round(x[o + i] / scale), -32, 31) - x[o + i];
      err += r * r;
    }
    if (err < bestErr) {
      bestErr = err;
      best = scale;
    }
  }
  return best;
}

function quantizeQ6_K(x: Float32Array, xo: number, out: Uint8Array, o: number): void {
  const scales = new Float64Array(16);
  let maxScale = 0;
  for (let j = 0; j < 16; j++) {
    scales[j] = fitSymmetric(x, xo + 16 * j);
    if (Math.abs(scales[j]) > Math.abs(maxScale)) maxScale = scales[j];
  }
  out.fill(0, o, o + 210);
  if (Math.abs(maxScale) < 1e-15) return;
  // The largest scale becomes sub-scale -128 times d; the others are int8 multiples of the same d.
  const iscale = -128 / maxScale;
  putF16(out, o + 208, 1 / iscale);
  for (let j = 0; j < 16; j++) out[o + 192 + j] = Math.min(127, Math.round(iscale * scales[j])) & 0xff;

  const d = f16At(out, o + 208, f16Lut());
  const L = new Uint8Array(256).fill(32);
  for (let j = 0; j < 16; j++) {
    const dd = fround(d * ((out[o + 192 + j] << 24) >> 24));
    if (!dd) continue;
    for (let i = 0; i < 16; i++) L[16 * j + i] = clamp(Math.round(x[xo + 16 * j + i] / dd), -32, 31) + 32;
  }
  for (let h = 0; h < 2; h++) {
    const ql = o + 64 * h;
    const qh = o + 128 + 32 * h;
    for (let l = 0; l < 32; l++) {
      const [a, b, c, e] = [L[128 * h + l], L[128 * h + l + 32], L[128 * h + l + 64], L[128 * h + l + 96]];
      out[ql + l] = (a & 15) | ((c & 15) << 4);
      out[ql + l + 32] = (b & 15) | ((e & 15) << 4);
      out[qh + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
    }
  }
}

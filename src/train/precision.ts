// FP8 mixed precision as DeepSeek-V3 trained (arXiv 2412.19437 §3.3), emulated by quantize-dequantize: each GEMM
// input is rounded to E4M3 (round-to-nearest-even, saturating at ±448) under a scale shared by a tile, then
// multiplied in f32. Activations use 1x128 tiles (one token, 128 channels), weights 128x128 blocks; the weight
// gradient's inputs use 128x1 tiles (128 tokens of one channel), the backward regrouping V3 describes. Scales are
// amax / 448 computed online, as DeepSeek's act_quant does (s = max(amax, 1e-4) / 448). Master weights, gradients
// and accumulation stay f32; this buys fidelity to the recipe, not speed (WASM has no FP8 arithmetic).

import { E4M3_MAX } from "../core/dtype.js";
import { regions, trainMemory, trainWasm } from "./gemm_wasm.js";

export interface Precision {
  fp8: boolean;
  /**
   * Under fp8, which GEMMs take E4M3 inputs (default all three, V3's recipe). The others stay f32: an ablation
   * that finds which quantization costs loss (docs/experiments.md, FP8 versus FP32).
   */
  fp8Gemms?: Fp8Gemm[];
}

/** The three GEMMs of a Linear layer: forward (x, W), input gradient (dy, W), weight gradient (dy, x). */
export type Fp8Gemm = "forward" | "dgrad" | "wgrad";
export const FP8_GEMMS: readonly Fp8Gemm[] = ["forward", "dgrad", "wgrad"];

export const FP8_TILE = 128;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * v rounded to the nearest E4M3FN value (|v| <= 448 after scaling; saturates above), ties to even, after v
 * itself is rounded to f32 (the quotient x / s an FP8 kernel holds in f32 before its cast). Normal range:
 * round the f32 mantissa to 3 bits in the bit pattern (a carry into the exponent is the right answer); below
 * 2^-6 the step is a fixed 2^-9. Bit arithmetic, not Math.pow and a division: the quantize-dequantize passes
 * were most of an emulated FP8 step.
 */
export function roundE4M3(v: number): number {
  const a = Math.abs(v);
  if (a >= E4M3_MAX) return v < 0 ? -E4M3_MAX : E4M3_MAX;
  let out: number;
  if (a < 2 ** -6) {
    const q = a * 512;
    let r = Math.round(q);
    if (r - q === 0.5 && (r & 1) === 1) r -= 1; // ties to even (Math.round rounds .5 up)
    out = r / 512;
  } else {
    f32[0] = a;
    const u = u32[0];
    u32[0] = (u + 0x7ffff + ((u >>> 20) & 1)) & 0xfff00000;
    out = f32[0];
  }
  return v < 0 ? -out : out;
}

function scaleOf(amax: number): number {
  return Math.max(amax, 1e-4) / E4M3_MAX;
}

/** Quantize-dequantize x [N, K] in 1xFP8_TILE tiles along K (activations, forward and input gradient). */
export function quantRowsRef(x: Float32Array, N: number, K: number): Float32Array {
  const y = new Float32Array(N * K);
  for (let n = 0; n < N; n++)
    for (let k0 = 0; k0 < K; k0 += FP8_TILE) {
      const o = n * K;
      const end = Math.min(K, k0 + FP8_TILE);
      let amax = 0;
      for (let k = k0; k < end; k++) amax = Math.max(amax, Math.abs(x[o + k]));
      const s = scaleOf(amax);
      for (let k = k0; k < end; k++) y[o + k] = roundE4M3(x[o + k] / s) * s;
    }
  return y;
}

/** Quantize-dequantize x [N, K] in FP8_TILEx1 tiles along N (inputs of the weight-gradient GEMM). */
export function quantColsRef(x: Float32Array, N: number, K: number): Float32Array {
  const y = new Float32Array(N * K);
  const amax = new Float32Array(K);
  for (let n0 = 0; n0 < N; n0 += FP8_TILE) {
    const end = Math.min(N, n0 + FP8_TILE);
    amax.fill(0);
    for (let n = n0; n < end; n++) for (let k = 0; k < K; k++) amax[k] = Math.max(amax[k], Math.abs(x[n * K + k]));
    for (let n = n0; n < end; n++)
      for (let k = 0; k < K; k++) {
        const s = scaleOf(amax[k]);
        y[n * K + k] = roundE4M3(x[n * K + k] / s) * s;
      }
  }
  return y;
}

/**
 * quantRowsRef / quantColsRef on the trainer's wasm module (assembly/train/fp8.ts), bit for bit: the same f64
 * arithmetic, without the per-element typed-array round trips (the two were ~49% of an emulated FP8 step in JS).
 */
function quantWasm(kind: "rows" | "cols", x: Float32Array, N: number, K: number): Float32Array {
  const ex = trainWasm!;
  const [xp, yp, ap] = regions(N * K, N * K, 3 * K + 2);
  const F = trainMemory();
  F.set(x.subarray(0, N * K), xp >> 2);
  if (kind === "rows") ex.quant_rows(xp, yp, N, K, FP8_TILE);
  else ex.quant_cols(xp, yp, N, K, FP8_TILE, ap);
  return F.slice(yp >> 2, (yp >> 2) + N * K);
}

/** Quantize-dequantize x [N, K] in 1xFP8_TILE tiles along K: the wasm kernel where it loaded, else the loops. */
export const quantRows = trainWasm
  ? (x: Float32Array, N: number, K: number) => quantWasm("rows", x, N, K)
  : quantRowsRef;
/** Quantize-dequantize x [N, K] in FP8_TILEx1 tiles along N: the wasm kernel where it loaded, else the loops. */
export const quantCols = trainWasm
  ? (x: Float32Array, N: number, K: number) => quantWasm("cols", x, N, K)
  : quantColsRef;

/** Per-block scales of w [M, K] in FP8_TILE x FP8_TILE blocks: [ceil(M/128), ceil(K/128)], amax / 448. */
export function weightScales(w: Float32Array, M: number, K: number): Float32Array {
  const bm = Math.ceil(M / FP8_TILE);
  const bk = Math.ceil(K / FP8_TILE);
  const s = new Float32Array(bm * bk);
  for (let m = 0; m < M; m++)
    for (let k = 0; k < K; k++) {
      const i = Math.floor(m / FP8_TILE) * bk + Math.floor(k / FP8_TILE);
      s[i] = Math.max(s[i], Math.abs(w[m * K + k]));
    }
  for (let i = 0; i < s.length; i++) s[i] = scaleOf(s[i]);
  return s;
}

/** Quantize-dequantize a weight [M, K] in 128x128 blocks: exactly what the FP8 export stores, decoded. */
export function quantWeight(w: Float32Array, M: number, K: number): Float32Array {
  const s = weightScales(w, M, K);
  const bk = Math.ceil(K / FP8_TILE);
  const y = new Float32Array(M * K);
  for (let m = 0; m < M; m++)
    for (let k = 0; k < K; k++) {
      const sc = s[Math.floor(m / FP8_TILE) * bk + Math.floor(k / FP8_TILE)];
      y[m * K + k] = roundE4M3(w[m * K + k] / sc) * sc;
    }
  return y;
}

// The trainer's GEMMs on WebAssembly SIMD (assembly/train/gemm.ts, built to build/r1ts-train.wasm): drop-in
// replacements for gemm_ref.ts's loops, with the same signatures. The module is instantiated once, at import,
// with its own ordinary (non-shared) memory; each call copies its operands into scratch there (grown as needed),
// runs the kernel and copies the result out. Copies are O(N·K + N·M), the GEMM O(N·K·M) with K, M >= 12 here.
//
// The kernel computes C[I, P] += A[I, R] · B[R, P] with P a multiple of 4 (f32x4 along B's and C's rows), so
// operands whose row length is not (vocab 102) are copied into rows padded with zeros and the pad is dropped on
// the way out. Where the module is missing or the runtime lacks SIMD, or R1TS_TRAIN_GEMM=js, the reference
// loops run instead (gemmBackend says which).

import { existsSync, readFileSync } from "node:fs";
import { WA } from "../kernels/wasm_api.js";
import { buildPath } from "../kernels/wasm_module.js";
import * as ref from "./gemm_ref.js";

interface TrainExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  heap_base(): number;
  /** (c, ldc, a, sai, sar, b, ldb, I, R, P, rc): byte pointers and strides; see assembly/train/gemm.ts. */
  gemm_acc(...args: number[]): void;
  /** (dst, ldd, src, lds, rows, cols): byte pointers, strides in floats. */
  repack(...args: number[]): void;
  /** (dst, ldd, src, rows, cols): byte pointers, ldd in floats. */
  transpose(...args: number[]): void;
  /** assembly/train/attention.ts: (q, kn, kp, v, out, P, B, T, H, nope, rd, V, scale, scratch). */
  mla_fwd(...args: number[]): void;
  /** (q, kn, kp, v, P, dO, dq, dkn, dkp, dv, B, T, H, nope, rd, V, scale, scratch). */
  mla_bwd(...args: number[]): void;
  /** assembly/train/fp8.ts: (x, y, N, K, tile) and (x, y, N, K, tile, amax scratch). */
  quant_rows(...args: number[]): void;
  quant_cols(...args: number[]): void;
}

const PAGE = 65536;
/** Bytes of B per reduction chunk in the weight gradient (B = x, N rows): an L1-sized slice. */
const CHUNK_BYTES = 16384;

function instantiate(): TrainExports | null {
  if (process.env.R1TS_TRAIN_GEMM === "js" || !WA) return null;
  try {
    const file = buildPath("r1ts-train.wasm");
    if (!existsSync(file)) return null;
    const bytes = readFileSync(file);
    if (!WA.validate(bytes)) return null;
    const abort = () => {
      throw new Error("r1ts-train.wasm aborted");
    };
    return new WA.Instance(new WA.Module(bytes), { env: { abort } }).exports as unknown as TrainExports;
  } catch {
    return null;
  }
}

const wasm = instantiate();
/** The module (null where the JS fallback runs): attention.ts and precision.ts call it through regions(). */
export const trainWasm = wasm;
/** Which implementation the exported GEMMs run: "wasm" (SIMD kernels) or "js" (gemm_ref.ts fallback). */
export const gemmBackend: "wasm" | "js" = wasm ? "wasm" : "js";

/** F views the module's whole memory (rebuilt after a grow); scratch starts at heap_base. */
let F = new Float32Array(0);
/** The module's memory as floats, valid until the next regions() call (which may grow it). */
export const trainMemory = () => F;
const base = wasm ? (wasm.heap_base() + 15) & ~15 : 0;

/**
 * Makes room for regions of the given float counts, laid out from heap_base 16-byte aligned, and returns their
 * byte offsets. Each call has A, B, C (the kernel's operands) and S (staging for a padded copy).
 */
export function regions(...floats: number[]): number[] {
  const out: number[] = [];
  let at = base;
  for (const n of floats) {
    out.push(at);
    at += (n * 4 + 15) & ~15;
  }
  const mem = (wasm as TrainExports).memory;
  if (at > mem.buffer.byteLength) mem.grow(Math.ceil((at - mem.buffer.byteLength) / PAGE));
  if (F.buffer !== mem.buffer) F = new Float32Array(mem.buffer);
  return out;
}

const pad4 = (n: number) => (n + 3) & ~3;

/**
 * Copies src [rows, cols] into scratch at byte offset `at` with rows of ld >= cols floats (pad zeroed). A
 * padded copy goes through staging at `stage` and one repack in wasm: a subarray per row costs more than the
 * GEMM's own time on 1,700 rows.
 */
function put(src: Float32Array, rows: number, cols: number, at: number, ld: number, stage: number): void {
  if (ld === cols) {
    F.set(src.subarray(0, rows * cols), at >> 2);
    return;
  }
  F.set(src.subarray(0, rows * cols), stage >> 2);
  (wasm as TrainExports).repack(at, ld, stage, cols, rows, cols);
}

/** Copies scratch [rows, ld] at byte offset `at` into dst [rows, cols], dropping the pad (through `stage`). */
function get(dst: Float32Array, rows: number, cols: number, at: number, ld: number, stage: number): void {
  if (ld !== cols) {
    (wasm as TrainExports).repack(stage, cols, at, ld, rows, cols);
    at = stage;
  }
  dst.set(F.subarray(at >> 2, (at >> 2) + rows * cols));
}

/** y[N, M] = x[N, K] · w[M, K]ᵀ (overwrites y): A = x, B = wᵀ [K, Mp] (transposed in wasm), C = y zeroed. */
function wasmNT(y: Float32Array, x: Float32Array, w: Float32Array, N: number, K: number, M: number): void {
  const ex = wasm as TrainExports;
  const Mp = pad4(M);
  const [a, b, c, s] = regions(N * K, K * Mp, N * Mp, Math.max(M * K, N * M));
  F.set(x.subarray(0, N * K), a >> 2);
  F.set(w.subarray(0, M * K), s >> 2);
  ex.transpose(b, Mp, s, M, K);
  F.fill(0, c >> 2, (c >> 2) + N * Mp);
  ex.gemm_acc(c, Mp * 4, a, K * 4, 4, b, Mp * 4, N, K, Mp, K);
  get(y, N, M, c, Mp, s);
}

/**
 * C[I, K] += A · B[R, K] with A read from dy [N, M] in place (strides sai, sar in floats: dy itself or dyᵀ), B
 * and C copied into scratch with rows padded to Kp; rc: how much of the R-long sum the kernel takes at a time.
 */
function accumulate(
  c: Float32Array,
  I: number,
  b: Float32Array,
  R: number,
  K: number,
  dy: Float32Array,
  sai: number,
  sar: number,
  rc: number,
): void {
  const Kp = pad4(K);
  const [ap, bp, cp, sp] = regions(dy.length, R * Kp, I * Kp, Kp === K ? 0 : (R + I) * K);
  F.set(dy, ap >> 2);
  put(b, R, K, bp, Kp, sp);
  put(c, I, K, cp, Kp, sp);
  (wasm as TrainExports).gemm_acc(cp, Kp * 4, ap, sai * 4, sar * 4, bp, Kp * 4, I, R, Kp, rc);
  get(c, I, K, cp, Kp, sp);
}

/** dx[N, K] += dy[N, M] · w[M, K]: A = dy, B = w, C = dx. */
function wasmNN(dx: Float32Array, dy: Float32Array, w: Float32Array, N: number, M: number, K: number): void {
  accumulate(dx, N, w, M, K, dy.subarray(0, N * M), M, 1, M);
}

/** dw[M, K] += dy[N, M]ᵀ · x[N, K]: A = dyᵀ (strided reads of dy), B = x, C = dw; the N-long sum in chunks. */
function wasmTN(dw: Float32Array, dy: Float32Array, x: Float32Array, N: number, M: number, K: number): void {
  accumulate(dw, M, x, N, K, dy.subarray(0, N * M), 1, M, Math.max(8, Math.floor(CHUNK_BYTES / (pad4(K) * 4))));
}

/** y[N, M] = x[N, K] · w[M, K]ᵀ (overwrites y). */
export const gemmNT = wasm ? wasmNT : ref.gemmNT;
/** dx[N, K] += dy[N, M] · w[M, K]. */
export const gemmNN_acc = wasm ? wasmNN : ref.gemmNN_acc;
/** dw[M, K] += dy[N, M]ᵀ · x[N, K]. */
export const gemmTN_acc = wasm ? wasmTN : ref.gemmTN_acc;

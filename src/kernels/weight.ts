// A matrix as the kernels consume it: [rows, cols] row-major in the checkpoint's own encoding, plus the
// FP8 block scales when there are any. Nothing here widens a whole matrix; rows are decoded on demand.

import { BLOCK_LAYOUT, type DType, E4M3_LUT, E5M2_LUT, f16Lut, rowBytes } from "../core/dtype.js";
import { dequantizeRow } from "../core/quant/ggml.js";
import type { Tensor } from "../core/tensor.js";

export interface Weight {
  dtype: DType;
  rows: number;
  cols: number;
  bytes: Uint8Array;
  /** FP8 only: one f32 multiplier per 128x128 block, [ceil(rows/128), ceil(cols/128)] (DeepSeek's weight_scale_inv). */
  scale?: Float32Array;
  /** Row index of this view's row 0 in the matrix the scale grid belongs to (views made by rowRange). */
  scaleRowOffset?: number;
  /** Bytes per stored row (block-quantized rows are whole blocks). */
  rowStride: number;
}

export const FP8_BLOCK = 128;

export function asWeight(t: Tensor, scale?: Tensor): Weight {
  if (t.shape.length !== 2 && t.shape.length !== 1) throw new Error(`asWeight: rank ${t.shape.length}`);
  const rows = t.shape.length === 2 ? t.shape[0] : 1;
  const cols = t.shape[t.shape.length - 1];
  const w: Weight = { dtype: t.dtype, rows, cols, bytes: t.bytes, rowStride: rowBytes(t.dtype, cols) };
  if (scale) {
    w.scale = new Float32Array(scale.bytes.buffer, scale.bytes.byteOffset, scale.bytes.byteLength / 4);
  }
  return w;
}

/** Rows [r0, r0+n) as a Weight view sharing storage and scales (an expert slice, a head's rows of a fused matrix). */
export function rowRange(w: Weight, r0: number, n: number): Weight {
  return {
    ...w,
    rows: n,
    bytes: w.bytes.subarray(r0 * w.rowStride, (r0 + n) * w.rowStride),
    scaleRowOffset: (w.scaleRowOffset ?? 0) + r0,
  };
}

/** Decode row `r` into out[0..cols): the one place every storage format turns into f32 in the reference path. */
export function decodeRow(w: Weight, r: number, out: Float32Array): void {
  const n = w.cols;
  const off = w.bytes.byteOffset + r * w.rowStride;
  switch (w.dtype) {
    case "f32": {
      const src = new Float32Array(w.bytes.buffer, off, n);
      out.set(src);
      return;
    }
    case "bf16": {
      const src = new Uint16Array(w.bytes.buffer, off, n);
      // bf16 is the top half of an f32: shift into a u32 view of the output, no per-element conversion call.
      const o = new Uint32Array(out.buffer, out.byteOffset, n);
      for (let i = 0; i < n; i++) o[i] = src[i] << 16;
      return;
    }
    case "f16": {
      const src = new Uint16Array(w.bytes.buffer, off, n);
      const lut = f16Lut();
      for (let i = 0; i < n; i++) out[i] = lut[src[i]];
      return;
    }
    case "f8_e4m3":
    case "f8_e5m2": {
      const lut = w.dtype === "f8_e4m3" ? E4M3_LUT : E5M2_LUT;
      const src = w.bytes.subarray(r * w.rowStride, r * w.rowStride + n);
      if (!w.scale) {
        for (let i = 0; i < n; i++) out[i] = lut[src[i]];
        return;
      }
      const sc = Math.ceil(n / FP8_BLOCK);
      const srow = ((r + (w.scaleRowOffset ?? 0)) >> 7) * sc;
      for (let b = 0; b < sc; b++) {
        const s = w.scale[srow + b];
        const end = Math.min(n, (b + 1) * FP8_BLOCK);
        for (let i = b * FP8_BLOCK; i < end; i++) out[i] = lut[src[i]] * s;
      }
      return;
    }
    default: {
      if (!BLOCK_LAYOUT[w.dtype]) throw new Error(`decodeRow: no decoder for ${w.dtype}`);
      dequantizeRow(w.dtype, w.bytes.subarray(r * w.rowStride, (r + 1) * w.rowStride), out, n);
    }
  }
}

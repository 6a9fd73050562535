// A tensor as loaded from a checkpoint: its storage bytes in the file's own encoding, never widened.
// Shapes are row-major, outermost first, as PyTorch and safetensors write them (a Linear weight is
// [out, in]); the GGUF reader reverses ggml's ne[] order at the edge so the rest of r1ts sees one convention.

import { type DType, rowBytes } from "./dtype.js";

export interface Tensor {
  dtype: DType;
  shape: number[];
  /** Exactly the tensor's storage. Each tensor owns (or views into) a buffer aligned to 8 bytes. */
  bytes: Uint8Array;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function byteSize(dtype: DType, shape: readonly number[]): number {
  if (shape.length === 0) return rowBytes(dtype, 1);
  const inner = shape[shape.length - 1];
  return rowBytes(dtype, inner) * (numel(shape) / inner);
}

/** A typed view of a plain-dtype tensor; fails loudly on misaligned storage instead of copying silently. */
export function f32View(t: Tensor): Float32Array {
  if (t.dtype !== "f32") throw new Error(`f32View: tensor is ${t.dtype}`);
  return new Float32Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength / 4);
}

export function u16View(t: Tensor): Uint16Array {
  if (t.dtype !== "f16" && t.dtype !== "bf16") throw new Error(`u16View: tensor is ${t.dtype}`);
  return new Uint16Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength / 2);
}

/** A view of slice `i` along the outermost dimension (an expert of a stacked [E, out, in] tensor). */
export function outerSlice(t: Tensor, i: number): Tensor {
  const shape = t.shape.slice(1);
  const size = byteSize(t.dtype, shape);
  return { dtype: t.dtype, shape, bytes: t.bytes.subarray(i * size, (i + 1) * size) };
}

/** An 8-byte-aligned buffer: every typed view (Float32Array, Uint16Array, BigInt64Array) works on it. */
export function alignedBytes(n: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(Math.ceil(n / 8) * 8), 0, n);
}

// The weights of one checkpoint under canonical names, loaded once into the buffers the kernels read.
// Architectures ask for tensors with the shape their config implies; a mismatch is a config error naming the
// tensor, what the config implies and what the file holds.

import { configError, formatError } from "../core/errors.js";
import { numel, outerSlice, type Tensor } from "../core/tensor.js";
import type { Allocator, TensorInfo, TensorSource } from "../formats/source.js";
import { asWeight, decodeRow, FP8_BLOCK, type Weight } from "../kernels/weight.js";

export class WeightStore {
  private readonly loaded = new Map<string, Tensor>();
  /** Canonical names handed out so far: load.ts reports the ones never used. */
  readonly used = new Set<string>();

  /** Destination of tensor reads: set by load.ts from the kernel backend before any weight is read. */
  alloc?: Allocator;

  constructor(
    private readonly source: TensorSource,
    /** canonical -> name in the file */
    private readonly names: Map<string, string>,
    readonly where: string,
  ) {}

  has(name: string): boolean {
    return this.names.has(name);
  }

  canonicalNames(): string[] {
    return [...this.names.keys()];
  }

  info(name: string): TensorInfo {
    const f = this.names.get(name);
    if (!f) throw formatError(this.where, name, "tensor missing from the checkpoint");
    return this.source.info(f);
  }

  tensor(name: string, shape?: number[]): Tensor {
    const file = this.names.get(name);
    if (!file)
      throw formatError(
        this.where,
        name,
        "tensor missing from the checkpoint",
        "the checkpoint is incomplete or not the architecture its config names",
      );
    let t = this.loaded.get(name);
    if (!t) {
      t = this.source.load(file, this.alloc);
      this.loaded.set(name, t);
    }
    this.used.add(name);
    if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])))
      throw configError(this.where, file, `shape [${t.shape}] disagrees with the config, which implies [${shape}]`);
    return t;
  }

  /** A Linear weight [rows, cols], with its FP8 block scale when the checkpoint has one. */
  matrix(name: string, rows: number, cols: number): Weight {
    const t = this.tensor(name, [rows, cols]);
    const scaleName = `${name}.scale`;
    if (this.has(scaleName)) {
      const s = this.tensor(scaleName, [Math.ceil(rows / FP8_BLOCK), Math.ceil(cols / FP8_BLOCK)]);
      if (s.dtype !== "f32") throw formatError(this.where, scaleName, `block scale must be F32, got ${s.dtype}`);
      return asWeight(t, s);
    }
    if (t.dtype === "f8_e4m3")
      throw formatError(
        this.where,
        name,
        "FP8 weight without its weight_scale_inv",
        "the checkpoint is missing the block scales",
      );
    return asWeight(t);
  }

  /** Expert `e` of a MoE layer, from per-expert tensors (HF) or a slice of a stacked [E, rows, cols] one (GGUF). */
  expert(name: string, e: number, nExperts: number, rows: number, cols: number): Weight {
    if (this.has(name)) {
      const stacked = this.tensor(name, [nExperts, rows, cols]);
      return asWeight(outerSlice(stacked, e));
    }
    return this.matrix(`${name}.${e}`, rows, cols);
  }

  /** A stacked [n, rows, cols] tensor as n matrix views (GGUF's split MLA attn_k_b / attn_v_b). */
  matrix3(name: string, n: number, rows: number, cols: number): Weight[] {
    const t = this.tensor(name, [n, rows, cols]);
    return Array.from({ length: n }, (_, i) => asWeight(outerSlice(t, i)));
  }

  /** A small tensor (norm gain, bias) decoded to f32 once. */
  vector(name: string, n: number): Float32Array {
    const t = this.tensor(name);
    if (numel(t.shape) !== n)
      throw configError(this.where, name, `has ${numel(t.shape)} values, the config implies ${n}`);
    const out = new Float32Array(n);
    decodeRow(asWeight({ ...t, shape: [n] }), 0, out);
    return out;
  }

  optionalVector(name: string, n: number): Float32Array | undefined {
    return this.has(name) ? this.vector(name, n) : undefined;
  }
}

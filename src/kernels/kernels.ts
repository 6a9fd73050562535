// The kernel interface: every op a model's forward pass calls. ref.ts is the specification (plain loops);
// faster backends implement the same interface and answer to ref.ts in test/kernels.conformance.test.ts.
// Layouts are row-major and named in each signature: [T, n] means T rows of n floats.

import type { Weight } from "./weight.js";

/** A SwiGLU feed-forward's matrices (dense layers, MoE experts, shared experts). */
export interface FfnWeights {
  gate: Weight; // [inter, hidden]
  up: Weight; // [inter, hidden]
  down: Weight; // [hidden, inter]
}

export interface Kernels {
  readonly name: string;
  /**
   * Optional: `bytes` zeroed bytes where this backend's kernels read weights directly (a WASM arena). A loader
   * that reads each tensor into alloc()'s buffer spares the backend a copy and the process a second resident
   * copy of the model. Backends without it read weights from ordinary buffers.
   */
  alloc?(bytes: number): Uint8Array;
  /**
   * Optional: a zeroed KV-cache array where this backend's attention reads it in place (a WASM arena), so a
   * decode step does not copy the whole cache into kernel memory per layer. The backend reuses the storage once
   * the array is garbage-collected, so hold the returned array itself (not only subarrays) while it is in use.
   */
  allocCache?(floats: number): Float32Array;
  /** out[T, w.rows] = x[T, w.cols] · Wᵀ (a Linear layer without bias). */
  matmul(out: Float32Array, x: Float32Array, w: Weight, T: number): void;
  /**
   * outs[j] [T, ws[j].rows] = x [T, cols] · ws[j]ᵀ for weights that read the same input (q/k/v, gate/up): a
   * backend may quantize x once and run them as one job.
   */
  matmulMany(outs: Float32Array[], x: Float32Array, ws: Weight[], T: number): void;
  /** out [T, down.rows] = down · (silu(gate · h) * (up · h)) for h [T, gate.cols]: a SwiGLU feed-forward. */
  ffn(out: Float32Array, h: Float32Array, w: FfnWeights, T: number): void;
  /** out[T, dim] = x / sqrt(mean(x²) + eps) * g. out may alias x. */
  rmsnorm(out: Float32Array, x: Float32Array, g: Float32Array, T: number, dim: number, eps: number): void;
  /**
   * In-place rotary embedding on x viewed as [T, nHeads, stride], rotating dims [offset, offset + ropeDim) of
   * each head with angle tables cos/sin [T, ropeDim/2]. interleaved: pairs (2i, 2i+1) (GPT-J, DeepSeek, GGUF
   * llama); otherwise pairs (i, i + ropeDim/2) (GPT-NeoX, HF Llama/Qwen2).
   */
  rope(
    x: Float32Array,
    T: number,
    nHeads: number,
    stride: number,
    offset: number,
    ropeDim: number,
    cos: Float32Array,
    sin: Float32Array,
    interleaved: boolean,
  ): void;
  /** out[n] = silu(gate) * up. */
  swiglu(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void;
  /**
   * Causal grouped-query attention for T new tokens at positions pos0..pos0+T-1 over a cache that already holds
   * them: q [T, nHeads, hd], kCache/vCache [ctx, nKv, hd] -> out [T, nHeads, hd]. Head h reads KV head
   * h / (nHeads / nKv).
   */
  attention(
    out: Float32Array,
    q: Float32Array,
    kCache: Float32Array,
    vCache: Float32Array,
    T: number,
    pos0: number,
    nHeads: number,
    nKv: number,
    hd: number,
    scale: number,
  ): void;
  /**
   * MLA in its absorbed form (DeepSeek-V2/V3): per head, scores = qLat·c + qPe·kPe over the latent cache.
   * qLat [T, nHeads, rank], qPe [T, nHeads, ropeDim], cCache [ctx, rank], peCache [ctx, ropeDim]
   * -> out [T, nHeads, rank] (attention-weighted latents; the caller applies W_UV).
   */
  mlaAttention(
    out: Float32Array,
    qLat: Float32Array,
    qPe: Float32Array,
    cCache: Float32Array,
    peCache: Float32Array,
    T: number,
    pos0: number,
    nHeads: number,
    rank: number,
    ropeDim: number,
    scale: number,
  ): void;
}

/** The feed-forward as its parts (matmulMany for gate and up, swiglu, matmul for down): what a backend runs
 * when it has nothing fused for these weights. */
export function composedFfn(k: Kernels, out: Float32Array, h: Float32Array, w: FfnWeights, T: number): void {
  const inter = w.gate.rows;
  const g = new Float32Array(T * inter);
  const u = new Float32Array(T * inter);
  k.matmulMany([g, u], h, [w.gate, w.up], T);
  k.swiglu(g, g, u, T * inter);
  k.matmul(out, g, w.down, T);
}

/** A KV-cache array from the backend when it offers one (Kernels.allocCache), else an ordinary one. */
export function cacheArray(k: Kernels, floats: number): Float32Array {
  return k.allocCache?.(floats) ?? new Float32Array(floats);
}

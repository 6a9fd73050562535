// What every architecture exposes to generate/: a forward pass over a run of tokens that appends to a KV
// cache, and the facts `r1 info` reports. One file per architecture implements it (qwen2.ts, llama.ts,
// deepseek_v3.ts), composed from layers/.

import type { Kernels } from "../kernels/kernels.js";
import type { ModelConfig } from "./config.js";

/** Per-sequence attention state. `pos` tokens are cached; setting pos lower rewinds (prefix reuse). */
export interface KVCache {
  readonly ctx: number;
  pos: number;
  /** layers[l] holds that layer's arrays: [K, V] of [ctx, nKv*hd] (GQA) or [latent, ropeKey] (MLA). */
  readonly layers: Float32Array[][];
}

export interface BatchItem {
  tokens: ArrayLike<number>;
  cache: KVCache;
  allLogits?: boolean;
}

export interface ParamCounts {
  total: number;
  /** Parameters read per token: all of a dense model; shared + top-k routed experts of a MoE. */
  active: number;
}

export interface CausalLM {
  readonly config: ModelConfig;
  readonly kernels: Kernels;
  newCache(ctx: number): KVCache;
  /**
   * Runs tokens at positions cache.pos.. and advances cache.pos. Returns logits [T, vocab] when allLogits,
   * else [1, vocab] for the last token only.
   */
  forward(tokens: ArrayLike<number>, cache: KVCache, allLogits?: boolean): Float32Array;
  /**
   * Several sequences in one call (continuous batching): every matrix is read once for all their tokens;
   * attention runs per sequence on its own cache. Returns per sequence what forward() would.
   */
  forwardBatch(seqs: BatchItem[]): Float32Array[];
  /** KV-cache bytes per token in this engine's f32 cache (all layers). */
  cacheBytesPerToken(): number;
  params(): ParamCounts;
  /** Weight bytes as stored, and bytes read per decoded token (active weights only). */
  weightBytes(): { total: number; active: number };
  /** Tensor dtypes present, e.g. {bf16: 197, f32: 57}. */
  dtypes(): Record<string, number>;
  /** Things load skipped or kept aside (the MTP layer), for `r1 info` and the load log. */
  notes: string[];
}

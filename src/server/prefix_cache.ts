// Prefix cache: the KV caches of finished sequences, kept in a small LRU keyed by the tokens they hold, so a
// new request that starts with the same tokens (the next turn of a conversation, a shared system prompt, an
// evaluator scoring several continuations of one context) skips recomputing them. A hit is copied into the
// new sequence's own cache, so one entry serves any number of concurrent requests.
//
// Layout assumption (models/: llama.ts, deepseek_v3.ts): each cache array is position-major,
// [ctx, width], so the first n positions are the first n * width values.

import type { CausalLM, KVCache } from "../models/model.js";

interface Entry {
  tokens: number[];
  cache: KVCache;
  bytes: number;
}

export interface PrefixHit {
  /** The new cache, with `pos` tokens already filled from the entry. */
  cache: KVCache;
  /** Prompt tokens served from the cache. */
  hit: number;
}

export class PrefixCache {
  // Map iteration order is insertion order: the first key is the least recently used.
  private entries = new Map<number, Entry>();
  private nextId = 0;
  private bytes = 0;
  hits = 0;
  lookups = 0;

  constructor(
    private readonly model: CausalLM,
    /** Upper bound on the bytes of all kept caches; 0 disables the cache. */
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  /**
   * A fresh cache of `ctx` positions for `prompt`, prefilled from the entry sharing its longest prefix.
   * At most prompt.length - 1 tokens are reused: the last prompt token must run to produce logits.
   */
  take(prompt: readonly number[], ctx: number): PrefixHit {
    const cache = this.model.newCache(ctx);
    this.lookups++;
    const limit = Math.min(prompt.length - 1, ctx);
    let best: [number, Entry] | undefined;
    let bestLen = 0;
    for (const [id, e] of this.entries) {
      const n = commonPrefix(e.tokens, prompt, limit);
      if (n > bestLen) {
        bestLen = n;
        best = [id, e];
      }
    }
    if (!best) return { cache, hit: 0 };
    const [id, e] = best;
    this.entries.delete(id);
    this.entries.set(id, e); // most recently used
    copyPrefix(e.cache, cache, bestLen);
    this.hits++;
    return { cache, hit: bestLen };
  }

  /** Keeps a finished sequence's cache, whose first cache.pos positions hold `tokens`. */
  put(tokens: readonly number[], cache: KVCache): void {
    if (this.maxBytes <= 0 || cache.pos < 1) return;
    const held = tokens.slice(0, cache.pos);
    // Drop entries this one extends; skip it if an entry already covers it.
    for (const [id, e] of this.entries) {
      const n = commonPrefix(e.tokens, held, held.length);
      if (n === held.length) return;
      if (n === e.tokens.length) this.remove(id);
    }
    const bytes = cacheBytes(cache);
    if (bytes > this.maxBytes) return;
    this.entries.set(this.nextId++, { tokens: held, cache, bytes });
    this.bytes += bytes;
    for (const id of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(id);
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private remove(id: number): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.bytes -= e.bytes;
  }
}

export function commonPrefix(a: readonly number[], b: readonly number[], limit: number): number {
  const n = Math.min(a.length, b.length, limit);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function cacheBytes(c: KVCache): number {
  let b = 0;
  for (const layer of c.layers) for (const a of layer) b += a.byteLength;
  return b;
}

/** Copies positions [0, n) of every array from `src` to `dst` and sets dst.pos = n. */
export function copyPrefix(src: KVCache, dst: KVCache, n: number): void {
  src.layers.forEach((layer, l) => {
    layer.forEach((a, j) => {
      const width = a.length / src.ctx;
      dst.layers[l][j].set(a.subarray(0, n * width));
    });
  });
  dst.pos = n;
}

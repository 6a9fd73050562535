// The decoding loop for one sequence: prefill the prompt in one forward call, then one token per call until
// a stop token, a stop string, max tokens, the end of the context, or an abort. Yields each token with its
// text delta (stop strings held back until they can no longer match) and, when asked, its logprobs.

import type { CausalLM, KVCache } from "../models/model.js";
import type { R1Tokenizer } from "../tokenizer/tokenizer.js";
import { checkPromptFits } from "./kv_cache.js";
import type { SamplingOptions } from "./sampling.js";
import { DecodeState, type FinishReason, type GenStep } from "./step.js";

export type { FinishReason, GenStep, TokenLogprob } from "./step.js";

export interface GenerateOptions extends SamplingOptions {
  maxTokens: number;
  /** Token ids that end generation (default: the model's EOS ids); the stop token is not part of the text. */
  stopTokens?: number[];
  stop?: string[];
  /** Report this many top logprobs per generated token (natural-log softmax of the raw logits). */
  logprobs?: number;
  signal?: AbortSignal;
  /** Reuse this cache (its first cache.pos tokens must equal the prompt's prefix). */
  cache?: KVCache;
  ctx?: number;
}

export interface GenResult {
  tokens: number[];
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  /** Prompt tokens served from a reused cache (not recomputed). */
  cachedTokens: number;
  prefillMs: number;
  decodeMs: number;
  seed: number;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

export async function* generate(
  model: CausalLM,
  tokenizer: R1Tokenizer | undefined,
  prompt: number[],
  opts: GenerateOptions,
): AsyncGenerator<GenStep, GenResult> {
  const ctx = opts.cache?.ctx ?? opts.ctx ?? Math.min(model.config.maxPos, prompt.length + opts.maxTokens);
  checkPromptFits(prompt.length, ctx);
  const cache = opts.cache ?? model.newCache(ctx);
  const cachedTokens = Math.min(cache.pos, prompt.length - 1);
  cache.pos = cachedTokens;
  const state = new DecodeState({ ...opts, stopTokens: opts.stopTokens ?? model.config.eosIds }, tokenizer);

  const t0 = performance.now();
  let logits = model.forward(prompt.slice(cachedTokens), cache);
  const prefillMs = performance.now() - t0;
  const t1 = performance.now();
  let finish: FinishReason | undefined = opts.maxTokens <= 0 ? "length" : undefined;
  while (!finish) {
    if (opts.signal?.aborted) {
      finish = "abort";
      break;
    }
    const r = state.next(logits, cache);
    if (r.step) yield r.step;
    finish = r.finish;
    if (!finish) {
      logits = model.forward([r.step!.token], cache);
      await tick();
    }
  }
  const { tail, reason } = state.end(finish);
  if (tail) yield { token: -1, text: tail };
  return {
    tokens: state.tokens,
    text: state.text,
    finishReason: reason,
    promptTokens: prompt.length,
    cachedTokens,
    prefillMs,
    decodeMs: performance.now() - t1,
    seed: state.sampler.seed,
  };
}

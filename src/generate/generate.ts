// The decoding loop: prefill the prompt in one forward call, then one token per call until a stop token,
// a stop string, max tokens, the end of the context, or an abort. Yields each token with its text delta (stop
// strings held back until they can no longer match) and, when asked, its logprobs.

import type { CausalLM, KVCache } from "../models/model.js";
import type { R1Tokenizer } from "../tokenizer/tokenizer.js";
import { checkPromptFits } from "./kv_cache.js";
import { logSoftmax, Sampler, type SamplingOptions, topLogprobs } from "./sampling.js";
import { StopMatcher } from "./stop.js";

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

export interface TokenLogprob {
  token: number;
  logprob: number;
  top: { token: number; logprob: number }[];
}

export interface GenStep {
  /** The sampled id; -1 for the last step that only releases held-back text (partial UTF-8 or stop prefix). */
  token: number;
  /** Text this token completes, after stop-string filtering (may be empty). */
  text: string;
  logprob?: TokenLogprob;
}

export type FinishReason = "stop" | "length" | "abort";

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
  const sampler = new Sampler(opts);
  const stopTokens = new Set(opts.stopTokens ?? model.config.eosIds);
  const stops = new StopMatcher(opts.stop ?? []);
  const decoder = tokenizer?.streamDecoder();
  const tokens: number[] = [];
  let text = "";
  let finishReason: FinishReason = "length";
  let stoppedByString = false;

  const t0 = performance.now();
  let logits = model.forward(prompt.slice(cachedTokens), cache);
  const prefillMs = performance.now() - t0;
  const t1 = performance.now();
  while (tokens.length < opts.maxTokens) {
    if (opts.signal?.aborted) {
      finishReason = "abort";
      break;
    }
    const token = sampler.sample(logits);
    let logprob: TokenLogprob | undefined;
    if (opts.logprobs !== undefined) {
      const lp = logSoftmax(logits);
      logprob = { token, logprob: lp[token], top: opts.logprobs > 0 ? topLogprobs(logits, opts.logprobs) : [] };
    }
    if (stopTokens.has(token)) {
      finishReason = "stop";
      break;
    }
    tokens.push(token);
    const piece = decoder ? decoder.push(token) : "";
    const { text: delta, stopped } = stops.push(piece);
    text += delta;
    yield { token, text: delta, logprob };
    if (stopped) {
      finishReason = "stop";
      stoppedByString = true;
      break;
    }
    if (tokens.length >= opts.maxTokens) break;
    if (cache.pos >= cache.ctx) break; // context full: finish "length", as llama.cpp and vLLM do
    logits = model.forward([token], cache);
    await tick();
  }
  if (!stoppedByString) {
    const { text: rest, stopped } = stops.push(decoder?.flush() ?? "");
    const tail = stopped ? rest : rest + stops.flush();
    if (stopped) finishReason = "stop";
    if (tail) {
      text += tail;
      yield { token: -1, text: tail };
    }
  }
  return {
    tokens,
    text,
    finishReason,
    promptTokens: prompt.length,
    cachedTokens,
    prefillMs,
    decodeMs: performance.now() - t1,
    seed: sampler.seed,
  };
}

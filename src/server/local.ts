// The model this process serves itself: request -> prompt ids -> scheduler -> response. Shared by the chat
// (chat.ts) and legacy completions (completions.ts) handlers: limits, sampling defaults, usage, metering,
// logprob formatting.

import { randomBytes } from "node:crypto";
import type { Engine } from "../generate/engine.js";
import type { TokenLogprob } from "../generate/generate.js";
import { checkPromptFits } from "../generate/kv_cache.js";
import type { SamplingOptions } from "../generate/sampling.js";
import type { Meter, Metering } from "../metering/meter.js";
import { byteLevelBytes } from "../tokenizer/stream_decoder.js";
import { ApiError, badRequest } from "./errors.js";
import type { ChatLogprob, TopLogprob, Usage } from "./protocol.js";
import { QueueFullError, type Scheduler, type SeqHandle, type SeqRequest, ShuttingDownError } from "./scheduler.js";

export interface Limits {
  /** Largest max_tokens a request may ask for. */
  maxTokensCap: number;
  /** max_tokens for chat when the request names none (bounded by the context left). */
  defaultMaxTokens: number;
  /** Context per sequence. */
  ctx: number;
  /** A streaming client that reads nothing for this long is dropped. */
  stallMs: number;
  keepAliveMs: number;
}

export interface LocalModel {
  name: string;
  engine: Engine;
  scheduler: Scheduler;
  meter: Meter;
  limits: Limits;
  created: number;
}

export const FINGERPRINT = "r1ts";

export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString("hex")}`;
}

/** Request sampling fields over the checkpoint's generation_config.json, then R1's recommended 0.6 / 0.95. */
export function samplingFor(
  m: LocalModel,
  r: {
    temperature?: number | null;
    top_p?: number | null;
    top_k?: number | null;
    min_p?: number | null;
    seed?: number | null;
  },
): SamplingOptions {
  const g = m.engine.generation;
  return {
    temperature: r.temperature ?? g.temperature ?? 0.6,
    topP: r.top_p ?? g.topP ?? 0.95,
    topK: r.top_k ?? g.topK ?? 0,
    minP: r.min_p ?? 0,
    seed: r.seed ?? undefined,
  };
}

/**
 * Checks the prompt fits and turns the requested max_tokens into the number to generate: refused past the
 * server's cap, else clamped to the context left (the answer then ends with finish_reason "length").
 */
export function budget(m: LocalModel, promptLen: number, requested: number | undefined, param: string): number {
  const { ctx, maxTokensCap, defaultMaxTokens } = m.limits;
  if (requested !== undefined && requested > maxTokensCap)
    throw badRequest(`${param} is ${requested} but this server allows at most ${maxTokensCap}`, param);
  if (requested === 0) {
    if (promptLen > ctx)
      throw badRequest(
        `the prompt is ${promptLen} tokens but the context holds ${ctx}`,
        "prompt",
        "context_length_exceeded",
      );
    return 0;
  }
  try {
    checkPromptFits(promptLen, ctx);
  } catch (e) {
    throw badRequest((e as Error).message, "messages", "context_length_exceeded");
  }
  return Math.min(requested ?? defaultMaxTokens, ctx - promptLen);
}

export function submit(m: LocalModel, req: SeqRequest): SeqHandle {
  try {
    return m.scheduler.submit(req);
  } catch (e) {
    if (e instanceof QueueFullError)
      throw new ApiError(429, e.message, "rate_limit_error", "queue_full", null, {
        "retry-after": String(e.retryAfterS),
      });
    if (e instanceof ShuttingDownError) throw new ApiError(503, e.message, "server_error", "shutting_down");
    throw e;
  }
}

export function usageOf(prompt: number, cached: number, completion: number, reasoning: number): Usage {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_cache_hit_tokens: cached,
    prompt_cache_miss_tokens: prompt - cached,
    prompt_tokens_details: { cached_tokens: cached },
    completion_tokens_details: { reasoning_tokens: reasoning },
  };
}

export function meteringOf(m: LocalModel, u: Usage, res: { cpuSeconds: number; joules: number }): Metering {
  return m.meter.record(
    {
      cacheHit: u.prompt_cache_hit_tokens,
      cacheMiss: u.prompt_cache_miss_tokens,
      completion: u.completion_tokens,
      reasoning: u.completion_tokens_details.reasoning_tokens,
    },
    res,
  );
}

/** The text of one token as the API reports it, with its raw bytes (a token may be half a character). */
export function tokenInfo(m: LocalModel, id: number): TopLogprob {
  const tok = m.engine.tokenizer;
  const text = tok.decode([id]);
  let bytes: number[] | null = null;
  const raw = tok.idToToken(id);
  if (tok.byteLevel && raw !== undefined && !tok.isAdded(id)) bytes = Array.from(byteLevelBytes(raw));
  else bytes = Array.from(Buffer.from(text, "utf8"));
  return { token: text, logprob: 0, bytes };
}

export function chatLogprob(m: LocalModel, lp: TokenLogprob): ChatLogprob {
  return {
    ...tokenInfo(m, lp.token),
    logprob: lp.logprob,
    top_logprobs: lp.top.map((t) => ({ ...tokenInfo(m, t.token), logprob: t.logprob })),
  };
}

/** AbortSignal.any over the defined signals. */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}

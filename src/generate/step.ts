// One sequence's decoding state, shared by generate() (one sequence) and the server's scheduler (many):
// sample a token from logits, record its logprobs, stop on a stop token or string, detokenize incrementally,
// and release held-back text at the end.

import type { KVCache } from "../models/model.js";
import type { StreamDecoder } from "../tokenizer/stream_decoder.js";
import type { R1Tokenizer } from "../tokenizer/tokenizer.js";
import { logSoftmax, Sampler, type SamplingOptions, topLogprobs } from "./sampling.js";
import { StopMatcher } from "./stop.js";

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

export interface StepOptions extends SamplingOptions {
  maxTokens: number;
  /** Token ids that end generation (the stop token is not part of the output). */
  stopTokens: number[];
  stop?: string[];
  /** Report this many top logprobs per generated token (natural-log softmax of the raw logits). */
  logprobs?: number;
}

/** Logprob of `token` and the top-k alternatives from one row of raw logits. */
export function tokenLogprob(logits: Float32Array, token: number, k: number): TokenLogprob {
  return { token, logprob: logSoftmax(logits)[token], top: k > 0 ? topLogprobs(logits, k) : [] };
}

export class DecodeState {
  readonly sampler: Sampler;
  readonly tokens: number[] = [];
  text = "";
  private readonly stopTokens: Set<number>;
  private readonly stops: StopMatcher;
  private readonly decoder: StreamDecoder | undefined;
  private stoppedByString = false;

  constructor(
    private readonly opts: StepOptions,
    tokenizer: R1Tokenizer | undefined,
  ) {
    this.sampler = new Sampler(opts);
    this.stopTokens = new Set(opts.stopTokens);
    this.stops = new StopMatcher(opts.stop ?? []);
    this.decoder = tokenizer?.streamDecoder();
  }

  /**
   * Samples the next token from `logits`. Returns the step to emit (absent when a stop token ends the
   * sequence) and a finish reason once the sequence is over; `cache` tells whether the context is full.
   */
  next(logits: Float32Array, cache: KVCache): { step?: GenStep; finish?: FinishReason } {
    const token = this.sampler.sample(logits);
    const logprob = this.opts.logprobs !== undefined ? tokenLogprob(logits, token, this.opts.logprobs) : undefined;
    if (this.stopTokens.has(token)) return { finish: "stop" };
    this.tokens.push(token);
    const { text, stopped } = this.stops.push(this.decoder ? this.decoder.push(token) : "");
    this.text += text;
    const step = { token, text, logprob };
    if (stopped) {
      this.stoppedByString = true;
      return { step, finish: "stop" };
    }
    if (this.tokens.length >= this.opts.maxTokens) return { step, finish: "length" };
    if (cache.pos >= cache.ctx) return { step, finish: "length" }; // context full, as llama.cpp and vLLM do
    return { step };
  }

  /**
   * Releases text held back for a stop string or a partial UTF-8 character. A stop string completed by the
   * released text turns the finish reason into "stop".
   */
  end(reason: FinishReason): { tail: string; reason: FinishReason } {
    if (this.stoppedByString) return { tail: "", reason };
    const { text: rest, stopped } = this.stops.push(this.decoder?.flush() ?? "");
    const tail = stopped ? rest : rest + this.stops.flush();
    this.text += tail;
    return { tail, reason: stopped ? "stop" : reason };
  }
}

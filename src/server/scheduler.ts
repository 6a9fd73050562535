// Continuous batching. Requests wait in a bounded queue; every step the scheduler
//   1. admits waiting requests while fewer than maxBatch run (each gets a KV cache, prefilled from the
//      prefix cache where its prompt shares a prefix with a finished sequence),
//   2. builds one batch: a prompt chunk for each sequence still prefilling (at most prefillChunk prompt
//      tokens per step in all, so a long prompt cannot stall everyone's decoding) and the last sampled
//      token for each decoding sequence,
//   3. runs it in one model.forwardBatch call (every weight matrix read once for the whole batch),
//   4. samples each sequence's next token and pushes it to that request's channel, finishing sequences on a
//      stop token, a stop string, max_tokens, a full context, or cancellation (the client went away).
// Between steps it yields to the event loop so sockets are served. The per-token logic (stop tokens, stop
// strings, streamed detokenization, logprobs) mirrors generate/generate.ts, which runs one sequence alone.
// CPU seconds and joules of each step are apportioned to the sequences in it by their token counts.

import { performance } from "node:perf_hooks";
import type { SamplingOptions } from "../generate/sampling.js";
import { DecodeState, type TokenLogprob, tokenLogprob } from "../generate/step.js";
import type { EnergyMeter } from "../metering/energy.js";
import type { BatchItem, CausalLM, KVCache } from "../models/model.js";
import type { R1Tokenizer } from "../tokenizer/tokenizer.js";
import { Channel } from "./channel.js";
import { PrefixCache } from "./prefix_cache.js";

export interface SeqRequest {
  prompt: number[];
  /** Tokens to generate; 0 runs the prompt only (to score it with promptLogprobs). */
  maxTokens: number;
  sampling: SamplingOptions;
  stop?: string[];
  stopTokens?: number[];
  /** Top-k logprobs per generated token (0 = the sampled token's only); undefined = none. */
  logprobs?: number;
  /** Logprobs of every prompt token after the first, with this many top alternatives (echo scoring). */
  promptLogprobs?: number;
  signal?: AbortSignal;
}

export type SeqFinish = "stop" | "length" | "abort" | "error";

export interface SeqResult {
  tokens: number[];
  text: string;
  finishReason: SeqFinish;
  error?: Error;
  promptTokens: number;
  cachedTokens: number;
  /** promptLogprobs[i] scores prompt[i]; [0] is null (nothing precedes it). */
  promptLogprobs?: (TokenLogprob | null)[];
  cpuSeconds: number;
  joules: number;
  queueMs: number;
  prefillMs: number;
  decodeMs: number;
  seed: number;
}

export type SeqEvent =
  | { type: "token"; token: number; text: string; logprob?: TokenLogprob }
  | { type: "text"; text: string };

export interface SchedulerOptions {
  maxBatch: number;
  maxQueue: number;
  /** Prompt tokens run per step across all prefilling sequences. */
  prefillChunk: number;
  /** Context per sequence: the cache holds min(ctx, prompt + max_tokens) positions. */
  ctx: number;
  prefixCacheBytes: number;
  meter?: EnergyMeter;
}

export class QueueFullError extends Error {
  constructor(readonly retryAfterS: number) {
    super("the server is at capacity: too many requests are waiting");
  }
}

export class ShuttingDownError extends Error {
  constructor() {
    super("the server is shutting down and accepts no new requests");
  }
}

/** What a submitted request gets back: its events, and its result once finished. */
export interface SeqHandle {
  events: AsyncIterable<SeqEvent>;
  result: Promise<SeqResult>;
}

class Seq {
  cache!: KVCache;
  cached = 0;
  /** Next prompt index to run; == prompt.length once prefilled. */
  fed = 0;
  last = -1;
  readonly state: DecodeState;
  readonly promptLogprobs: (TokenLogprob | null)[] | undefined;
  readonly channel = new Channel<SeqEvent>();
  cpuSeconds = 0;
  joules = 0;
  readonly t0 = performance.now();
  tAdmit = 0;
  tPrefilled = 0;
  resolve!: (r: SeqResult) => void;
  readonly result = new Promise<SeqResult>((r) => {
    this.resolve = r;
  });

  constructor(
    readonly req: SeqRequest,
    eos: number[],
    tokenizer: R1Tokenizer | undefined,
  ) {
    this.state = new DecodeState(
      {
        ...req.sampling,
        maxTokens: req.maxTokens,
        stopTokens: req.stopTokens ?? eos,
        stop: req.stop,
        logprobs: req.logprobs,
      },
      tokenizer,
    );
    this.promptLogprobs = req.promptLogprobs !== undefined ? [null] : undefined;
  }

  get prefilling(): boolean {
    return this.fed < this.req.prompt.length;
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));

export class Scheduler {
  readonly prefix: PrefixCache;
  private waiting: Seq[] = [];
  private running: Seq[] = [];
  private looping = false;
  private closing = false;
  private idle: (() => void)[] = [];
  /** Seconds a finished request took, smoothed: the basis of Retry-After. */
  private avgSeqS = 1;
  readonly stats = { steps: 0, batchedTokens: 0, maxBatchSeen: 0, completed: 0, aborted: 0, rejected: 0 };

  constructor(
    readonly model: CausalLM,
    readonly tokenizer: R1Tokenizer | undefined,
    readonly opts: SchedulerOptions,
  ) {
    this.prefix = new PrefixCache(model, opts.prefixCacheBytes);
  }

  get queued(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running.length;
  }

  /** Queues a request. @throws QueueFullError when maxQueue wait already; ShuttingDownError after close(). */
  submit(req: SeqRequest): SeqHandle {
    if (this.closing) throw new ShuttingDownError();
    if (this.waiting.length >= this.opts.maxQueue) {
      this.stats.rejected++;
      const rounds = Math.ceil((this.waiting.length + 1) / this.opts.maxBatch);
      throw new QueueFullError(Math.max(1, Math.min(60, Math.ceil(rounds * this.avgSeqS))));
    }
    const seq = new Seq(req, this.model.config.eosIds, this.tokenizer);
    this.waiting.push(seq);
    if (!this.looping) {
      this.looping = true;
      void this.loop();
    }
    return { events: seq.channel, result: seq.result };
  }

  /** Stops accepting; resolves once every queued and running request has finished. */
  close(): Promise<void> {
    this.closing = true;
    if (!this.looping) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private async loop(): Promise<void> {
    try {
      while (this.waiting.length || this.running.length) {
        this.admit();
        this.step();
        await tick();
      }
    } finally {
      this.looping = false;
      for (const r of this.idle.splice(0)) r();
    }
  }

  private admit(): void {
    // Requests cancelled while waiting leave without touching the model.
    this.waiting = this.waiting.filter((s) => {
      if (!s.req.signal?.aborted) return true;
      this.finish(s, "abort");
      return false;
    });
    while (this.running.length < this.opts.maxBatch && this.waiting.length) {
      const s = this.waiting.shift() as Seq;
      s.tAdmit = performance.now();
      const { prompt, maxTokens } = s.req;
      const ctx = Math.min(this.opts.ctx, prompt.length + Math.max(maxTokens, 1));
      if (s.req.promptLogprobs !== undefined) {
        // Scoring needs logits at every prompt position, which cached positions do not have.
        s.cache = this.model.newCache(ctx);
      } else {
        const hit = this.prefix.take(prompt, ctx);
        s.cache = hit.cache;
        s.cached = hit.hit;
      }
      s.fed = s.cached;
      if (maxTokens === 0 && s.req.promptLogprobs === undefined) {
        this.finish(s, "length"); // nothing to compute
        continue;
      }
      this.running.push(s);
    }
  }

  private step(): void {
    this.running = this.running.filter((s) => {
      if (!s.req.signal?.aborted) return true;
      this.finish(s, "abort");
      return false;
    });
    if (!this.running.length) return;
    const batch: Seq[] = [];
    const items: BatchItem[] = [];
    let budget = this.opts.prefillChunk;
    for (const s of this.running) {
      if (s.prefilling) {
        if (budget <= 0) continue;
        const n = Math.min(budget, s.req.prompt.length - s.fed);
        budget -= n;
        const tokens = s.req.prompt.slice(s.fed, s.fed + n);
        items.push({ tokens, cache: s.cache, allLogits: s.promptLogprobs !== undefined });
      } else items.push({ tokens: [s.last], cache: s.cache });
      batch.push(s);
    }
    const meter = this.opts.meter;
    meter?.start();
    let logits: Float32Array[];
    try {
      logits = this.forward(items);
    } catch (e) {
      // A failed forward pass cannot be pinned on one sequence: end the batch's requests, keep serving.
      for (const s of batch) this.finish(s, "error", e as Error);
      this.running = this.running.filter((s) => !batch.includes(s));
      return;
    }
    const cost = meter?.stop();
    const total = items.reduce((a, it) => a + it.tokens.length, 0);
    this.stats.steps++;
    this.stats.batchedTokens += total;
    this.stats.maxBatchSeen = Math.max(this.stats.maxBatchSeen, batch.length);
    const done = new Set<Seq>();
    batch.forEach((s, i) => {
      const n = items[i].tokens.length;
      if (cost) {
        s.cpuSeconds += (cost.cpuSeconds * n) / total;
        s.joules += (cost.joules * n) / total;
      }
      let out = logits[i];
      if (s.prefilling) {
        if (s.promptLogprobs) this.scorePrompt(s, out, n);
        s.fed += n;
        if (s.prefilling) return; // more chunks to come
        s.tPrefilled = performance.now();
        if (s.promptLogprobs) out = out.subarray(out.length - this.model.config.vocabSize);
        if (s.req.maxTokens === 0) {
          done.add(s);
          this.finish(s, "length");
          return;
        }
      }
      const fin = this.advance(s, out);
      if (fin) {
        done.add(s);
        this.finish(s, fin);
      }
    });
    if (done.size) this.running = this.running.filter((s) => !done.has(s));
  }

  private forward(items: BatchItem[]): Float32Array[] {
    const m = this.model;
    if (typeof m.forwardBatch === "function") return m.forwardBatch(items);
    return items.map((it) => m.forward(it.tokens, it.cache, it.allLogits));
  }

  /** Logprobs of prompt[fed+1 .. fed+n] from the n rows of a chunk's logits. */
  private scorePrompt(s: Seq, rows: Float32Array, n: number): void {
    const V = this.model.config.vocabSize;
    const k = s.req.promptLogprobs ?? 0;
    const prompt = s.req.prompt;
    for (let t = 0; t < n; t++) {
      const target = s.fed + t + 1;
      if (target >= prompt.length) break;
      const row = rows.subarray(t * V, (t + 1) * V);
      const token = prompt[target];
      s.promptLogprobs?.push(tokenLogprob(row, token, k));
    }
  }

  /** Samples one token from `logits`; returns a finish reason when the sequence ends. */
  private advance(s: Seq, logits: Float32Array): SeqFinish | undefined {
    const { step, finish } = s.state.next(logits, s.cache);
    if (step) {
      s.last = step.token;
      s.channel.push({ type: "token", token: step.token, text: step.text, logprob: step.logprob });
    }
    return finish;
  }

  private finish(s: Seq, reason: SeqFinish, error?: Error): void {
    if (reason === "abort") this.stats.aborted++;
    else this.stats.completed++;
    // Release text held back for a possible stop string or a partial UTF-8 character.
    if (reason !== "error") {
      const end = s.state.end(reason);
      reason = end.reason;
      if (end.tail) s.channel.push({ type: "text", text: end.tail });
    }
    if (s.cache && s.cache.pos > 0 && reason !== "error")
      this.prefix.put([...s.req.prompt, ...s.state.tokens], s.cache);
    const now = performance.now();
    if (reason !== "abort") this.avgSeqS = 0.8 * this.avgSeqS + 0.2 * ((now - s.t0) / 1000);
    const admitted = s.tAdmit || now;
    const prefilled = s.tPrefilled || now;
    s.channel.close();
    s.resolve({
      tokens: s.state.tokens,
      text: s.state.text,
      finishReason: reason,
      error,
      promptTokens: s.req.prompt.length,
      cachedTokens: s.cached,
      promptLogprobs: s.promptLogprobs,
      cpuSeconds: s.cpuSeconds,
      joules: s.joules,
      queueMs: admitted - s.t0,
      prefillMs: prefilled - admitted,
      decodeMs: now - prefilled,
      seed: s.state.sampler.seed,
    });
  }
}

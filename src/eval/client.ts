// A small OpenAI-compatible client on fetch, for endpoint runs (our own server, DeepSeek's API, vLLM,
// llama.cpp, OpenAI). Non-streaming requests only: the harness needs whole answers and their usage.
//
// - Chat: POST {base}/chat/completions. Reasoning arrives as `reasoning_content` (DeepSeek, our server),
//   `reasoning` (vLLM >= 0.9, OpenRouter), or inline `<think>...</think>` in content (llama.cpp without a
//   reasoning parser, most distills): all three become one text with the reasoning inside <think> tags.
// - Log-likelihood: POST {base}/completions with echo, logprobs 1 and max_tokens 0, as lm-eval-harness's
//   local-completions does; the continuation is the tokens at or past the context's length by text_offset
//   (or by the cumulative length of the echoed token strings when text_offset is missing).
// - Failures: network errors, timeouts, 408/409/429 and 5xx are retried with exponential backoff (honouring
//   Retry-After); other 4xx are not (asking again cannot help). The last failure is thrown as an
//   EndpointError, which the harness records as a failed item.

import { splitReasoning } from "../generate/reasoning.js";
import type { ChatMessage } from "../tokenizer/chat_template.js";
import { type Backend, type ChatOutcome, joinReasoning, type LoglikOutcome, type SampleParams } from "./backend.js";

export interface EndpointOptions {
  /** Base URL; "/v1" is added when the URL has no path (http://127.0.0.1:8080 -> .../v1). */
  url: string;
  apiKey?: string;
  /** The `model` field; default: the first id from GET /models, else "default". */
  model?: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  maxConcurrency?: number;
  /** Extra fields merged into every chat body (e.g. {"reasoning_effort": "high"}). */
  extraBody?: Record<string, unknown>;
}

export class EndpointError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    readonly attempts = 1,
  ) {
    super(message);
    this.name = "EndpointError";
  }
}

export function endpointBase(url: string): string {
  const u = new URL(url);
  let path = u.pathname.replace(/\/+$/, "").replace(/\/(chat\/)?completions$/, "");
  if (path === "") path = "/v1";
  return `${u.origin}${path}`;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });

export class EndpointClient {
  readonly base: string;
  model: string | undefined;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  /** Attempts made by the last request (for the stored record). */
  lastAttempts = 0;

  constructor(readonly opts: EndpointOptions) {
    this.base = endpointBase(opts.url);
    this.model = opts.model;
    this.timeoutMs = opts.timeoutMs ?? 600_000;
    this.retries = opts.retries ?? 3;
    this.backoffMs = opts.backoffMs ?? 1000;
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { "content-type": "application/json", "user-agent": "r1ts-eval/0.1" };
    if (this.opts.apiKey) h.authorization = `Bearer ${this.opts.apiKey}`;
    return h;
  }

  /** One request, retried as the header says. Returns the parsed JSON body and the attempts it took. */
  async request(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<{ json: unknown; attempts: number }> {
    let last: EndpointError | undefined;
    for (let attempt = 1; attempt <= this.retries + 1; attempt++) {
      if (signal?.aborted) throw signal.reason;
      let retryAfterMs: number | undefined;
      try {
        const timeout = AbortSignal.timeout(this.timeoutMs);
        const res = await fetch(`${this.base}${path}`, {
          method,
          headers: this.headers(),
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        const text = await res.text();
        if (res.ok) {
          try {
            return { json: JSON.parse(text), attempts: attempt };
          } catch {
            throw new EndpointError(
              `${path}: HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 120)}`,
              res.status,
              true,
              attempt,
            );
          }
        }
        const retryable = res.status === 408 || res.status === 409 || res.status === 429 || res.status >= 500;
        const ra = Number(res.headers.get("retry-after"));
        if (Number.isFinite(ra) && ra > 0) retryAfterMs = Math.min(ra * 1000, 30_000);
        let detail = text.slice(0, 300);
        try {
          const j = JSON.parse(text);
          detail = j?.error?.message ?? j?.message ?? detail;
        } catch {}
        last = new EndpointError(`${path}: HTTP ${res.status}: ${detail}`, res.status, retryable, attempt);
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        if (e instanceof EndpointError) last = e;
        else {
          const err = e as Error & { cause?: { code?: string } };
          const what =
            err.name === "TimeoutError" ? `timed out after ${this.timeoutMs} ms` : (err.cause?.code ?? err.message);
          last = new EndpointError(`${path}: ${what}`, undefined, true, attempt);
        }
      }
      if (!last.retryable || attempt > this.retries) break;
      const backoff = this.backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
      await sleep(retryAfterMs ?? backoff, signal);
    }
    throw last ?? new EndpointError(`${path}: no attempt made`, undefined, false);
  }

  /** The model id to send: the configured one, else the first listed by GET /models. */
  async resolveModel(): Promise<string> {
    if (this.model) return this.model;
    try {
      const { json } = await this.request("GET", "/models");
      const id = (json as { data?: { id?: string }[] }).data?.[0]?.id;
      this.model = typeof id === "string" ? id : "default";
    } catch {
      this.model = "default";
    }
    return this.model;
  }

  async chat(
    messages: ChatMessage[],
    params: SampleParams,
    signal?: AbortSignal,
  ): Promise<ChatOutcome & { attempts: number }> {
    const body = {
      model: await this.resolveModel(),
      messages,
      temperature: params.temperature,
      top_p: params.topP,
      max_tokens: params.maxTokens,
      seed: params.seed,
      stream: false,
      ...this.opts.extraBody,
    };
    const { json, attempts } = await this.request("POST", "/chat/completions", body, signal);
    return { ...parseChat(json), attempts };
  }

  async loglik(
    context: string,
    choices: string[],
    signal?: AbortSignal,
  ): Promise<LoglikOutcome & { attempts: number }> {
    const model = await this.resolveModel();
    const out: LoglikOutcome & { attempts: number } = { sums: [], counts: [], promptTokens: 0, attempts: 0 };
    for (const choice of choices) {
      const body = { model, prompt: context + choice, echo: true, logprobs: 1, max_tokens: 0, temperature: 0 };
      const { json, attempts } = await this.request("POST", "/completions", body, signal);
      const r = continuationLogprob(json, context.length);
      out.sums.push(r.sum);
      out.counts.push(r.count);
      out.promptTokens += r.promptTokens;
      out.attempts += attempts;
    }
    return out;
  }
}

/** Reads a chat completion body into a ChatOutcome; a body without choices is a (non-retryable) error. */
export function parseChat(json: unknown): ChatOutcome {
  const j = json as {
    choices?: {
      message?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null };
      finish_reason?: string;
    }[];
    usage?: {
      prompt_tokens?: number;
      completion_tokens?: number;
      prompt_cache_hit_tokens?: number;
      prompt_tokens_details?: { cached_tokens?: number };
      completion_tokens_details?: { reasoning_tokens?: number };
    };
  };
  const choice = j?.choices?.[0];
  if (!choice?.message)
    throw new EndpointError("chat/completions: the answer has no choices[0].message", undefined, false);
  const finishReason = choice.finish_reason ?? "unknown";
  let content = choice.message.content ?? "";
  let reasoning = choice.message.reasoning_content ?? choice.message.reasoning ?? "";
  if (!reasoning && content.includes("</think>")) {
    // Inline tags: the server kept the reasoning in content (with or without the opening tag).
    const parts = splitReasoning(content, !/^\s*<think>/.test(content));
    reasoning = parts.reasoning;
    content = parts.content;
  } else if (!reasoning && /^\s*<think>/.test(content)) {
    reasoning = splitReasoning(content, false).reasoning; // opened, never closed: cut off while thinking
    content = "";
  }
  const u = j.usage ?? {};
  return {
    text: joinReasoning(reasoning, content, reasoning && !content ? "length" : finishReason),
    reasoning,
    content,
    startsInReasoning: false,
    finishReason,
    promptTokens: u.prompt_tokens ?? 0,
    completionTokens: u.completion_tokens ?? 0,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens,
    cachedTokens: u.prompt_cache_hit_tokens ?? u.prompt_tokens_details?.cached_tokens,
  };
}

/** Σ logprob of the echoed tokens at or past `contextChars` (see the header). */
export function continuationLogprob(
  json: unknown,
  contextChars: number,
): { sum: number; count: number; promptTokens: number } {
  const lp = (
    json as {
      choices?: { logprobs?: { tokens?: string[]; token_logprobs?: (number | null)[]; text_offset?: number[] } }[];
    }
  )?.choices?.[0]?.logprobs;
  if (!lp?.token_logprobs || !lp.tokens)
    throw new EndpointError(
      "completions: no logprobs.token_logprobs in the answer (the endpoint may not support echo + logprobs)",
      undefined,
      false,
    );
  let offsets = lp.text_offset;
  if (!offsets) {
    offsets = [];
    let at = 0;
    for (const t of lp.tokens) {
      offsets.push(at);
      at += t.length;
    }
  }
  let sum = 0;
  let count = 0;
  for (let i = 0; i < lp.token_logprobs.length; i++) {
    if (offsets[i] < contextChars) continue;
    const v = lp.token_logprobs[i];
    if (typeof v !== "number") throw new EndpointError(`completions: token ${i} has no logprob`, undefined, false);
    sum += v;
    count++;
  }
  return { sum, count, promptTokens: lp.tokens.length };
}

export function endpointBackend(opts: EndpointOptions): Backend & { client: EndpointClient } {
  const client = new EndpointClient(opts);
  return {
    name: client.base,
    kind: "endpoint",
    maxConcurrency: opts.maxConcurrency ?? 64,
    client,
    chat: (m, p, s) => client.chat(m, p, s),
    loglik: (c, ch, s) => client.loglik(c, ch, s),
  };
}

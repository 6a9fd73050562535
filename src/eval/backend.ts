// The two ways the harness asks a model: the local engine (generate/ in this process) or an OpenAI-compatible
// endpoint (client.ts). Both answer a chat request with the full output text (reasoning inside <think> tags,
// so one scorer serves both) and a multiple-choice request with summed log-probabilities per continuation.
//
// Log-likelihood, one rule for both backends so their scores are identical: tokenize context+continuation
// as one string (with BOS when the tokenizer adds one, as llama.cpp and the server do); the continuation's
// tokens are those after the longest common prefix with the context's own tokens; its score is the sum of
// their log-softmax probabilities under the model. The endpoint form reads the same from completions with
// echo + logprobs + max_tokens 0, selecting tokens whose text_offset is at or past the context's length.

import { performance } from "node:perf_hooks";
import { chatPrompt, type Engine } from "../generate/engine.js";
import { generate } from "../generate/generate.js";
import { contextSize } from "../generate/kv_cache.js";
import { splitReasoning } from "../generate/reasoning.js";
import { logSoftmax } from "../generate/sampling.js";
import type { ChatMessage } from "../tokenizer/chat_template.js";

export interface SampleParams {
  temperature: number;
  topP: number;
  maxTokens: number;
  seed: number;
}

export interface ChatOutcome {
  /** The output as scored: `<think>\n{reasoning}\n</think>\n\n{content}` when reasoning came separately. */
  text: string;
  reasoning: string;
  content: string;
  /** The prompt opened the think block, so `text` starts inside the reasoning. */
  startsInReasoning: boolean;
  finishReason: string;
  promptTokens: number;
  completionTokens: number;
  reasoningTokens?: number;
  cachedTokens?: number;
  /** The prompt as the model saw it (local engine only: endpoints render their own template). */
  renderedPrompt?: string;
}

export interface LoglikOutcome {
  /** Σ log p of each continuation's tokens. */
  sums: number[];
  /** Tokens in each continuation. */
  counts: number[];
  promptTokens: number;
}

export interface Backend {
  /** "local:<model name>" or the endpoint URL with its model. */
  name: string;
  kind: "local" | "endpoint";
  /** Requests it can usefully run at once (the local engine computes one at a time). */
  maxConcurrency: number;
  chat(messages: ChatMessage[], params: SampleParams, signal?: AbortSignal): Promise<ChatOutcome>;
  loglik(context: string, choices: string[], signal?: AbortSignal): Promise<LoglikOutcome>;
}

/** Rebuilds one scorable text from separate reasoning and content (endpoint answers). */
export function joinReasoning(reasoning: string, content: string, finishReason: string): string {
  if (!reasoning) return content;
  if (!content && finishReason === "length") return `<think>\n${reasoning}`; // cut off while thinking
  return `<think>\n${reasoning}\n</think>\n\n${content}`;
}

// ---------------------------------------------------------------------------------------------------------
// Local engine
// ---------------------------------------------------------------------------------------------------------

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** Σ log p(ids[i] | ids[<i]) for i in [from, ids.length), from one forward pass over `ids`. */
export function sequenceLogprob(engine: Engine, ids: number[], from: number): number {
  const m = engine.model;
  const vocab = m.config.vocabSize;
  const cache = m.newCache(ids.length);
  const logits = m.forward(ids, cache, true); // [T, vocab]
  let sum = 0;
  for (let i = Math.max(from, 1); i < ids.length; i++) {
    const lp = logSoftmax(logits.subarray((i - 1) * vocab, i * vocab));
    sum += lp[ids[i]];
  }
  return sum;
}

/** Token ids of context+continuation and where the continuation starts (the rule in the header). */
export function splitTokens(engine: Engine, context: string, choice: string): { ids: number[]; from: number } {
  const tok = engine.tokenizer;
  const ctx = tok.encode(context, { addSpecial: true });
  const ids = tok.encode(context + choice, { addSpecial: true });
  return { ids, from: commonPrefix(ctx, ids) };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

export function localBackend(engine: Engine, opts: { ctx?: number } = {}): Backend {
  const ctx = contextSize(engine.model, opts.ctx);
  return {
    name: `local:${engine.name}`,
    kind: "local",
    maxConcurrency: 1,
    async chat(messages, params, signal) {
      const p = chatPrompt(engine, messages);
      const maxTokens = Math.max(1, Math.min(params.maxTokens, ctx - p.ids.length));
      const gen = generate(engine.model, engine.tokenizer, p.ids, {
        maxTokens,
        temperature: params.temperature,
        topP: params.topP,
        seed: params.seed,
        ctx,
        signal,
      });
      let r = await gen.next();
      while (!r.done) r = await gen.next();
      const res = r.value;
      const parts = splitReasoning(res.text, p.startsInReasoning);
      const reasoningTokens = parts.reasoning ? engine.tokenizer.encode(parts.reasoning).length : 0;
      return {
        text: res.text,
        reasoning: parts.reasoning,
        content: parts.content,
        startsInReasoning: p.startsInReasoning,
        finishReason: res.finishReason,
        promptTokens: res.promptTokens,
        completionTokens: res.tokens.length,
        reasoningTokens,
        renderedPrompt: p.text,
      };
    },
    async loglik(context, choices) {
      const sums: number[] = [];
      const counts: number[] = [];
      let promptTokens = 0;
      const t0 = performance.now();
      for (const choice of choices) {
        const { ids, from } = splitTokens(engine, context, choice);
        sums.push(sequenceLogprob(engine, ids, from));
        counts.push(ids.length - from);
        promptTokens += ids.length;
        if (performance.now() - t0 > 50) await tick(); // let the progress bar and signals run
      }
      return { sums, counts, promptTokens };
    },
  };
}

// The wire format: OpenAI's chat.completions and legacy completions, with DeepSeek's reasoning fields
// (`reasoning_content`, mirrored as vLLM's `reasoning`) and usage fields (`prompt_cache_hit_tokens`, ...).
// Requests are parsed once here with zod; a bad field becomes a 400 whose message names its path.
//
// Accepted and ignored, as DeepSeek does: presence_penalty, frequency_penalty, user, logit_bias.
// Refused with a 400 naming the field: tools / functions (R1 serves no function calling), n > 1,
// and a `reasoning_content` sent back inside `messages` (DeepSeek's rule: earlier chains of thought must
// not be sent back; see api-docs.deepseek.com/guides/reasoning_model, "Multi-round conversation").
// Unlike DeepSeek, logprobs / top_logprobs are served for chat.

import { z } from "zod";
import type { Metering } from "../metering/meter.js";

export type { Metering };

// ---------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------

const textPart = z.object({ type: z.literal("text"), text: z.string() });

export const chatMessageSchema = z.object({
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.union([z.string(), z.array(textPart), z.null()]).optional(),
  name: z.string().optional(),
  // Only so the refinement below can name it: DeepSeek answers 400 when it is present.
  reasoning_content: z.unknown().optional(),
  reasoning: z.unknown().optional(),
});

const stopSchema = z.union([z.string().min(1), z.array(z.string().min(1)).max(16)]).nullish();
const streamOptions = z.object({ include_usage: z.boolean().optional() }).nullish();

/** Sampling fields shared by both endpoints (top_k and min_p are vLLM / llama.cpp extensions). */
const sampling = {
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(0).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullish(),
  stop: stopSchema,
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  n: z.literal(1, { message: "only n = 1 is served" }).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  user: z.string().nullish(),
};

export const chatRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(chatMessageSchema).min(1),
    max_tokens: z.number().int().min(1).nullish(),
    max_completion_tokens: z.number().int().min(1).nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    tools: z.array(z.unknown()).max(0, "function calling is not served by this model").nullish(),
    functions: z.array(z.unknown()).max(0, "function calling is not served by this model").nullish(),
    ...sampling,
  })
  .superRefine((r, ctx) => {
    r.messages.forEach((m, i) => {
      for (const f of ["reasoning_content", "reasoning"] as const)
        if (m[f] !== undefined && m[f] !== null)
          ctx.addIssue({
            code: "custom",
            path: ["messages", i, f],
            message: `send only the answer (content) of earlier turns back, not their ${f}, as DeepSeek's API requires`,
          });
    });
    if (r.top_logprobs && !r.logprobs)
      ctx.addIssue({ code: "custom", path: ["top_logprobs"], message: "top_logprobs needs logprobs: true" });
  });
export type ChatRequest = z.infer<typeof chatRequestSchema>;

const tokenIds = z.array(z.number().int().min(0)).min(1);
export const completionRequestSchema = z.object({
  model: z.string().min(1),
  // A string, a batch of strings, token ids, or a batch of token-id lists (lm-eval-harness sends ids).
  prompt: z.union([z.string(), z.array(z.string()).min(1).max(64), tokenIds, z.array(tokenIds).min(1).max(64)]),
  // OpenAI's default is 16. 0 is allowed: with echo + logprobs it scores the prompt only.
  max_tokens: z.number().int().min(0).nullish(),
  logprobs: z.number().int().min(0).max(20).nullish(),
  echo: z.boolean().nullish(),
  suffix: z.null().optional(),
  best_of: z.literal(1, { message: "only best_of = 1 is served" }).nullish(),
  ...sampling,
});
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

/** "messages.0.content: Invalid input: expected string, received number" for the first few issues. */
export function describeIssues(err: z.ZodError): { message: string; param: string | null } {
  const parts = err.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join(".") : "(body)"}: ${i.message}`);
  const more = err.issues.length > 3 ? ` (and ${err.issues.length - 3} more)` : "";
  const first = err.issues[0];
  return { message: parts.join("; ") + more, param: first?.path.length ? first.path.join(".") : null };
}

/** Joins text parts (the only content part type served) into one string. */
export function messageText(content: ChatRequest["messages"][number]["content"]): string | null {
  if (content === undefined || content === null) return null;
  if (typeof content === "string") return content;
  return content.map((p) => p.text).join("");
}

// ---------------------------------------------------------------------------------------------------------
// Responses (shapes only: the server builds them; tests and the gateway read them)
// ---------------------------------------------------------------------------------------------------------

export type FinishReason = "stop" | "length";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** DeepSeek: prompt_tokens = prompt_cache_hit_tokens + prompt_cache_miss_tokens. */
  prompt_cache_hit_tokens: number;
  prompt_cache_miss_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
}
export interface ChatLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  system_fingerprint: string;
  choices: {
    index: number;
    message: { role: "assistant"; content: string; reasoning_content: string; reasoning: string };
    logprobs: { content: ChatLogprob[] } | null;
    finish_reason: FinishReason;
  }[];
  usage: Usage;
  metering: Metering;
}

export interface ChatChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  system_fingerprint: string;
  choices: {
    index: number;
    delta: {
      role?: "assistant";
      content?: string | null;
      reasoning_content?: string | null;
      reasoning?: string | null;
    };
    logprobs?: { content: ChatLogprob[] } | null;
    finish_reason: FinishReason | null;
  }[];
  usage?: Usage | null;
  metering?: Metering;
}

/** Legacy completions logprobs: parallel arrays; the first prompt token has no logprob (null). */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

export interface Completion {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  system_fingerprint: string;
  choices: { index: number; text: string; logprobs: CompletionLogprobs | null; finish_reason: FinishReason }[];
  usage: Usage;
  metering: Metering;
}

export interface ApiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

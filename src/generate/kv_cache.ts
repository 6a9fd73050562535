// Context sizing: the KV cache is allocated from the config and the requested context, never grown.

import { inputError, usageError } from "../core/errors.js";
import type { CausalLM } from "../models/model.js";

/** Default context when the user names none: the model's own limit, capped to keep the f32 cache modest. */
export const DEFAULT_CTX = 4096;

export function contextSize(model: CausalLM, requested?: number): number {
  const max = model.config.maxPos;
  if (requested === undefined) return Math.min(max, DEFAULT_CTX);
  if (!Number.isInteger(requested) || requested < 1)
    throw usageError(`context size must be a positive integer, got ${requested}`);
  if (requested > max)
    throw usageError(
      `context size ${requested} exceeds the model's max_position_embeddings ${max}`,
      `use --ctx-size ${max} or less`,
    );
  return requested;
}

/** Refuses a prompt that leaves no room to generate, naming both numbers. */
export function checkPromptFits(promptTokens: number, ctx: number): void {
  if (promptTokens >= ctx)
    throw inputError(
      `the prompt is ${promptTokens} tokens but the context holds ${ctx}, leaving no room for an answer`,
      "shorten the prompt or raise --ctx-size (up to the model's max_position_embeddings)",
    );
}

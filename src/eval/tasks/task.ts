// What a task is to the harness: a list of items (each a chat prompt, and for multiple choice also a
// log-likelihood context with its continuations), and a scorer for a stored output. Items carry `groups`
// (language, subject, topic, ...) that the results break down by.

import type { ChatMessage } from "../../tokenizer/chat_template.js";
import type { DataOptions } from "../data.js";

export interface MultipleChoice {
  /** Text before the continuations (lm-eval's context), without a trailing space. */
  context: string;
  /** Each continuation as scored, with its leading space (" A", " the man jumps."). */
  choices: string[];
  gold: number;
  /** Characters of each choice without the leading delimiter: acc_norm's normaliser (lm-eval). */
  lengths: number[];
}

export interface Item {
  /** Stable id within the task: what `r1 eval score` responses refer to. */
  id: string;
  /** The chat prompt (generative tasks, and multiple choice asked by letter). */
  messages: ChatMessage[];
  /** Multiple choice by log-likelihood. */
  mc?: MultipleChoice;
  /** The reference answer as text ("18", "\\frac{1}{2}", "B"; "" for probes). */
  gold: string;
  groups: Record<string, string>;
}

export interface Verdict {
  /** What was read out of the output (a number, a LaTeX answer, a letter), null when nothing was. */
  extracted: string | null;
  /** Scored correct. For probes: the model answered (did not refuse). */
  correct: boolean;
  /** The output ended inside its reasoning (no answer): counted wrong, reported as a rate. */
  truncated: boolean;
  refused?: boolean;
  refusalKind?: string;
  skippedThinking?: boolean;
}

export interface LoadOptions {
  data: DataOptions;
  /** First N items (per language for mgsm, per subject for mmlu, per set for content-gaps). */
  limit?: number;
  seed: number;
  /** mgsm: the languages to run (default all 11). */
  langs?: string[];
}

export interface Task {
  name: string;
  /** generative: pass@1 over sampled answers; choice: acc by log-likelihood or letter; probe: refusal rate. */
  kind: "generative" | "choice" | "probe";
  /** The breakdowns results.json reports, in order. */
  groupBy: string[];
  load(opts: LoadOptions): Promise<Item[]>;
  /** An item from its id alone, for tasks generated rather than read (arith), so rescoring needs no data. */
  lookup?(id: string): Item | undefined;
  /** Score one output text (full, with any <think> block). */
  score(item: Item, output: string, startsInReasoning: boolean): Verdict;
}

/** R1's authors' instruction for math, appended to the user message (no system prompt). */
export const BOXED_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}.";

export function limitPerGroup<T>(items: T[], limit: number | undefined, key: (t: T) => string): T[] {
  if (limit === undefined) return items;
  const seen = new Map<string, number>();
  return items.filter((t) => {
    const k = key(t);
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    return n < limit;
  });
}

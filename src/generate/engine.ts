// A loaded model with everything needed to talk to it: tokenizer, chat template, sampling defaults.
// The front ends (CLI, server, eval) all start here.

import { performance } from "node:perf_hooks";
import type { GenerationDefaults } from "../models/config.js";
import { type Checkpoint, type LoadOptions, loadModel, modelName } from "../models/load.js";
import type { CausalLM } from "../models/model.js";
import { type ChatMessage, ChatTemplate, promptEndsInThink } from "../tokenizer/chat_template.js";
import { R1Tokenizer } from "../tokenizer/tokenizer.js";

export interface Engine {
  name: string;
  path: string;
  ckpt: Checkpoint;
  model: CausalLM;
  tokenizer: R1Tokenizer;
  template: ChatTemplate;
  generation: GenerationDefaults;
  loadMs: number;
}

export function loadTokenizer(ckpt: Checkpoint): R1Tokenizer {
  if (ckpt.format === "gguf") {
    const meta = ckpt.source.metadata ?? {};
    return R1Tokenizer.fromGGUF(meta as Parameters<typeof R1Tokenizer.fromGGUF>[0], ckpt.path);
  }
  return R1Tokenizer.fromFolder(ckpt.path);
}

export function loadEngine(path: string, opts: LoadOptions = {}): Engine {
  const t0 = performance.now();
  const { ckpt, model } = loadModel(path, opts);
  const tokenizer = loadTokenizer(ckpt);
  const template = ChatTemplate.fromTokenizer(tokenizer);
  return {
    name: modelName(path),
    path,
    ckpt,
    model,
    tokenizer,
    template,
    generation: ckpt.generation,
    loadMs: performance.now() - t0,
  };
}

export interface ChatPrompt {
  text: string;
  ids: number[];
  /** The prompt opened the <think> block: the output starts inside the reasoning. */
  startsInReasoning: boolean;
}

/** Renders and tokenizes a conversation with the model's template (which writes BOS itself). */
export function chatPrompt(e: Engine, messages: ChatMessage[]): ChatPrompt {
  const text = e.template.render(messages);
  return { text, ids: e.tokenizer.encode(text, { addSpecial: false }), startsInReasoning: promptEndsInThink(text) };
}

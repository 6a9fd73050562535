// The only list of architectures. Adding one is a file beside this one and a line here.

import type { Kernels } from "../kernels/kernels.js";
import type { Arch, ModelConfig } from "./config.js";
import { buildDeepseekV3 } from "./deepseek_v3.js";
import { buildLlama } from "./llama.js";
import type { CausalLM } from "./model.js";
import type { WeightStore } from "./store.js";

type Builder = (cfg: never, store: WeightStore, kernels: Kernels, notes: string[]) => CausalLM;

const BUILDERS: Record<Arch, Builder> = {
  // Qwen2 is the Llama block with q/k/v biases (config.qkvBias).
  qwen2: buildLlama,
  llama: buildLlama,
  deepseek_v3: buildDeepseekV3,
};

export function buildModel(cfg: ModelConfig, store: WeightStore, kernels: Kernels, notes: string[]): CausalLM {
  return (BUILDERS[cfg.arch] as (c: ModelConfig, s: WeightStore, k: Kernels, n: string[]) => CausalLM)(
    cfg,
    store,
    kernels,
    notes,
  );
}

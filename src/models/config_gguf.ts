// GGUF metadata (llama.cpp's keys) -> ModelConfig. GGUF names the architecture "deepseek2" for V2 and V3/R1.

import { configError, unsupported } from "../core/errors.js";
import type { GGUFValue } from "../formats/gguf.js";
import type { DeepseekV3Config, DenseConfig, ModelConfig, RopeScaling } from "./config.js";

type Meta = Record<string, GGUFValue>;

const GGUF_ARCHS: Record<string, ModelConfig["arch"]> = { qwen2: "qwen2", llama: "llama", deepseek2: "deepseek_v3" };

export function ggufArch(meta: Meta, where: string): ModelConfig["arch"] {
  const a = meta["general.architecture"];
  if (typeof a !== "string") throw configError(where, "general.architecture", "missing");
  const arch = GGUF_ARCHS[a];
  if (!arch)
    throw unsupported(
      `${where}: GGUF architecture "${a}" is not supported (supported: ${Object.keys(GGUF_ARCHS).join(", ")})`,
      "r1ts runs the DeepSeek-R1 family: R1/V3 (deepseek2) and R1-Distill (qwen2, llama)",
    );
  return arch;
}

export function parseGgufConfig(meta: Meta, where: string, vocabFromTokens?: number): ModelConfig {
  const arch = ggufArch(meta, where);
  const p = meta["general.architecture"] as string;
  const num = (key: string, fallback?: number): number => {
    const v = meta[`${p}.${key}`];
    if (typeof v === "number") return v;
    if (typeof v === "bigint") return Number(v);
    if (typeof v === "boolean") return v ? 1 : 0;
    if (fallback !== undefined) return fallback;
    throw configError(where, `${p}.${key}`, "missing from the GGUF metadata");
  };
  const has = (key: string) => meta[`${p}.${key}`] !== undefined;
  const hidden = num("embedding_length");
  const nHeads = num("attention.head_count");
  const tokens = meta["tokenizer.ggml.tokens"];
  const vocabSize = num("vocab_size", Array.isArray(tokens) ? tokens.length : (vocabFromTokens ?? 0));
  const eos = meta["tokenizer.ggml.eos_token_id"];
  const bos = meta["tokenizer.ggml.bos_token_id"];
  const eosIds = typeof eos === "number" ? [eos] : [];
  const eot = meta["tokenizer.ggml.eot_token_id"];
  if (typeof eot === "number" && !eosIds.includes(eot)) eosIds.push(eot);

  let scaling: RopeScaling | undefined;
  const st = meta[`${p}.rope.scaling.type`];
  if (st === "yarn") {
    // llama.cpp stores 0.1 * mscale_all_dim as yarn_log_multiplier; V3/R1 use mscale == mscale_all_dim.
    const mAll = num("rope.scaling.yarn_log_multiplier", 0) / 0.1;
    scaling = {
      type: "yarn",
      factor: num("rope.scaling.factor"),
      originalMaxPos: num("rope.scaling.original_context_length"),
      betaFast: num("rope.scaling.yarn_beta_fast", 32),
      betaSlow: num("rope.scaling.yarn_beta_slow", 1),
      mscale: mAll,
      mscaleAllDim: mAll,
    };
  } else if (st === "linear") {
    scaling = { type: "linear", factor: num("rope.scaling.factor") };
  } else if (st !== undefined && st !== "none") {
    throw configError(where, `${p}.rope.scaling.type`, `"${String(st)}" is not supported`);
  }

  const common = {
    vocabSize,
    hidden,
    nLayers: num("block_count"),
    nHeads,
    rmsEps: Math.fround(num("attention.layer_norm_rms_epsilon", 1e-6)),
    maxPos: num("context_length"),
    tieEmbeddings: false, // decided by load.ts from whether output.weight exists
    bosId: typeof bos === "number" ? bos : undefined,
    eosIds,
  };

  if (arch === "deepseek_v3") {
    const ropeDim = num("rope.dimension_count");
    // Absorbed-MLA GGUFs (llama.cpp >= 2025) keep per-head sizes in *_mla keys and report the latent as key_length.
    const qkHead = has("attention.key_length_mla") ? num("attention.key_length_mla") : num("attention.key_length");
    const vHead = has("attention.value_length_mla") ? num("attention.value_length_mla") : num("attention.value_length");
    const gating = num("expert_gating_func", 1);
    const cfg: DeepseekV3Config = {
      arch,
      ...common,
      rope: { theta: num("rope.freq_base", 10000), dim: ropeDim, interleaved: true, scaling },
      qLoraRank: has("attention.q_lora_rank") && num("attention.q_lora_rank") > 0 ? num("attention.q_lora_rank") : null,
      kvLoraRank: num("attention.kv_lora_rank"),
      qkNopeDim: qkHead - ropeDim,
      qkRopeDim: ropeDim,
      vHeadDim: vHead,
      intermediate: num("feed_forward_length"),
      moeIntermediate: num("expert_feed_forward_length"),
      nRoutedExperts: num("expert_count"),
      nSharedExperts: num("expert_shared_count", 0),
      topK: num("expert_used_count"),
      nGroup: num("expert_group_count", 1),
      topkGroup: num("expert_group_used_count", 1),
      normTopkProb: num("expert_weights_norm", 0) === 1,
      routedScalingFactor: num("expert_weights_scale", 1),
      firstKDense: num("leading_dense_block_count", 0),
      moeLayerFreq: 1,
      scoring: gating === 2 ? "sigmoid" : "softmax",
      selectionBias: false, // set by load.ts when exp_probs_b tensors exist
      nMtpLayers: num("nextn_predict_layers", 0),
    };
    return cfg;
  }
  const headDim = has("attention.key_length") ? num("attention.key_length") : hidden / nHeads;
  const cfg: DenseConfig = {
    arch,
    ...common,
    nKvHeads: num("attention.head_count_kv", nHeads),
    headDim,
    intermediate: num("feed_forward_length"),
    // convert_hf_to_gguf permutes llama's q/k rows so ggml's interleaved (NORM) rope applies; qwen2 stays NeoX.
    rope: {
      theta: num("rope.freq_base", 10000),
      dim: num("rope.dimension_count", headDim),
      interleaved: arch === "llama",
      scaling,
    },
    qkvBias: false, // set by load.ts from the presence of attn_q.bias
  };
  return cfg;
}

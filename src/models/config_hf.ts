// config.json + generation_config.json (Hugging Face) -> ModelConfig. zod checks the fields each architecture
// needs; the error names the file and the field. Unknown extra fields are allowed: real configs carry many.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { configError, formatError, unsupported } from "../core/errors.js";
import type { DeepseekV3Config, DenseConfig, GenerationDefaults, ModelConfig, RopeScaling } from "./config.js";
import { knownArchs } from "./registry_names.js";

const int = z.number().int();
const ids = z.union([int, z.array(int)]).optional();

const ropeScaling = z
  .looseObject({
    type: z.string().optional(),
    rope_type: z.string().optional(),
    factor: z.number().optional(),
    original_max_position_embeddings: int.optional(),
    beta_fast: z.number().optional(),
    beta_slow: z.number().optional(),
    mscale: z.number().optional(),
    mscale_all_dim: z.number().optional(),
    low_freq_factor: z.number().optional(),
    high_freq_factor: z.number().optional(),
  })
  .nullable()
  .optional();

const base = {
  model_type: z.string(),
  vocab_size: int,
  hidden_size: int,
  num_hidden_layers: int,
  num_attention_heads: int,
  rms_norm_eps: z.number().default(1e-6),
  max_position_embeddings: int.default(4096),
  tie_word_embeddings: z.boolean().default(false),
  rope_theta: z.number().default(10000),
  rope_scaling: ropeScaling,
  bos_token_id: int.nullable().optional(),
  eos_token_id: ids,
};

const denseSchema = z.looseObject({
  ...base,
  num_key_value_heads: int.optional(),
  head_dim: int.optional(),
  intermediate_size: int,
  attention_bias: z.boolean().optional(),
});

const deepseekSchema = z.looseObject({
  ...base,
  num_key_value_heads: int.optional(),
  intermediate_size: int,
  moe_intermediate_size: int,
  q_lora_rank: int.nullable().optional(),
  kv_lora_rank: int,
  qk_nope_head_dim: int,
  qk_rope_head_dim: int,
  v_head_dim: int,
  n_routed_experts: int,
  n_shared_experts: int.nullable().default(0),
  num_experts_per_tok: int,
  n_group: int.default(1),
  topk_group: int.default(1),
  norm_topk_prob: z.boolean().default(false),
  routed_scaling_factor: z.number().default(1),
  first_k_dense_replace: int.default(0),
  moe_layer_freq: int.default(1),
  scoring_func: z.enum(["sigmoid", "softmax"]).default("softmax"),
  topk_method: z.string().default("greedy"),
  num_nextn_predict_layers: int.default(0),
});

const generationSchema = z.looseObject({
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_k: int.optional(),
  bos_token_id: int.nullable().optional(),
  eos_token_id: ids,
});

export function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw formatError(path, "file", "cannot be read", "check the path and permissions");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw formatError(path, "JSON", (e as Error).message, "the file is not valid JSON; restore it from the checkpoint");
  }
}

function parseWith<T>(schema: z.ZodType<T>, raw: unknown, where: string): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw configError(where, issue.path.join(".") || "(root)", issue.message);
}

function idList(v: number | number[] | undefined | null): number[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function scalingOf(raw: z.infer<typeof ropeScaling>, where: string): RopeScaling | undefined {
  if (!raw) return undefined;
  const kind = raw.rope_type ?? raw.type;
  const factor = raw.factor ?? 1;
  if (kind === "yarn") {
    return {
      type: "yarn",
      factor,
      originalMaxPos: raw.original_max_position_embeddings ?? 4096,
      betaFast: raw.beta_fast ?? 32,
      betaSlow: raw.beta_slow ?? 1,
      mscale: raw.mscale ?? 1,
      mscaleAllDim: raw.mscale_all_dim ?? 0,
    };
  }
  if (kind === "llama3") {
    return {
      type: "llama3",
      factor,
      lowFreqFactor: raw.low_freq_factor ?? 1,
      highFreqFactor: raw.high_freq_factor ?? 4,
      originalMaxPos: raw.original_max_position_embeddings ?? 8192,
    };
  }
  if (kind === "linear") return { type: "linear", factor };
  if (kind === "default" || kind === undefined) return undefined;
  throw configError(where, "rope_scaling.type", `"${kind}" is not supported (yarn, llama3, linear are)`);
}

export function parseHfConfig(raw: unknown, where: string): ModelConfig {
  const mt = (raw as { model_type?: unknown })?.model_type;
  if (typeof mt !== "string") throw configError(where, "model_type", "missing");
  if (!knownArchs.includes(mt))
    throw unsupported(
      `${where}: model_type "${mt}" is not a supported architecture (supported: ${knownArchs.join(", ")})`,
      "r1ts runs the DeepSeek-R1 family: R1/V3 (deepseek_v3) and R1-Distill (qwen2, llama)",
    );
  if (mt === "deepseek_v3" || mt === "deepseek_v2") {
    const c = parseWith(deepseekSchema, raw, where);
    const cfg: DeepseekV3Config = {
      arch: "deepseek_v3",
      vocabSize: c.vocab_size,
      hidden: c.hidden_size,
      nLayers: c.num_hidden_layers,
      nHeads: c.num_attention_heads,
      rmsEps: c.rms_norm_eps,
      maxPos: c.max_position_embeddings,
      tieEmbeddings: c.tie_word_embeddings,
      rope: {
        theta: c.rope_theta,
        dim: c.qk_rope_head_dim,
        interleaved: true,
        scaling: scalingOf(c.rope_scaling, where),
      },
      bosId: c.bos_token_id ?? undefined,
      eosIds: idList(c.eos_token_id),
      qLoraRank: c.q_lora_rank ?? null,
      kvLoraRank: c.kv_lora_rank,
      qkNopeDim: c.qk_nope_head_dim,
      qkRopeDim: c.qk_rope_head_dim,
      vHeadDim: c.v_head_dim,
      intermediate: c.intermediate_size,
      moeIntermediate: c.moe_intermediate_size,
      nRoutedExperts: c.n_routed_experts,
      nSharedExperts: c.n_shared_experts ?? 0,
      topK: c.num_experts_per_tok,
      nGroup: c.n_group,
      topkGroup: c.topk_group,
      normTopkProb: c.norm_topk_prob,
      routedScalingFactor: c.routed_scaling_factor,
      firstKDense: c.first_k_dense_replace,
      moeLayerFreq: c.moe_layer_freq,
      scoring: c.scoring_func,
      selectionBias: c.topk_method === "noaux_tc",
      nMtpLayers: c.num_nextn_predict_layers,
    };
    return cfg;
  }
  const c = parseWith(denseSchema, raw, where);
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  const cfg: DenseConfig = {
    arch: mt as "qwen2" | "llama",
    vocabSize: c.vocab_size,
    hidden: c.hidden_size,
    nLayers: c.num_hidden_layers,
    nHeads: c.num_attention_heads,
    nKvHeads: c.num_key_value_heads ?? c.num_attention_heads,
    headDim,
    intermediate: c.intermediate_size,
    rmsEps: c.rms_norm_eps,
    maxPos: c.max_position_embeddings,
    tieEmbeddings: c.tie_word_embeddings,
    // HF stores Qwen2/Llama q/k in the rotate-half (NeoX) order.
    rope: { theta: c.rope_theta, dim: headDim, interleaved: false, scaling: scalingOf(c.rope_scaling, where) },
    bosId: c.bos_token_id ?? undefined,
    eosIds: idList(c.eos_token_id),
    qkvBias: mt === "qwen2" ? true : (c.attention_bias ?? false),
  };
  return cfg;
}

export function readHfConfig(dir: string): ModelConfig {
  const path = join(dir, "config.json");
  if (!existsSync(path))
    throw formatError(path, "file", "missing", "a Hugging Face checkpoint folder needs config.json beside its weights");
  return parseHfConfig(readJson(path), path);
}

export function readGenerationDefaults(dir: string, cfg: ModelConfig): GenerationDefaults {
  const path = join(dir, "generation_config.json");
  const out: GenerationDefaults = { eosIds: cfg.eosIds, bosId: cfg.bosId };
  if (!existsSync(path)) return out;
  const g = parseWith(generationSchema, readJson(path), path);
  const eos = idList(g.eos_token_id);
  return {
    temperature: g.temperature,
    topP: g.top_p,
    topK: g.top_k,
    eosIds: eos.length ? eos : cfg.eosIds,
    bosId: g.bos_token_id ?? cfg.bosId,
  };
}

// Model configuration as explicit typed data, parsed once at the edge from config.json (HF) or GGUF metadata.
// Nothing downstream infers a variant from a size: every switch the math needs is a field here.

import { configError } from "../core/errors.js";

export interface YarnScaling {
  type: "yarn";
  factor: number;
  originalMaxPos: number;
  betaFast: number;
  betaSlow: number;
  /** Scales cos/sin by mscale(factor, mscale) / mscale(factor, mscaleAllDim); 1 when they are equal (V3/R1). */
  mscale: number;
  mscaleAllDim: number;
}

/** Llama 3.1's frequency-dependent scaling (R1-Distill-Llama-8B). */
export interface Llama3Scaling {
  type: "llama3";
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPos: number;
}

export interface LinearScaling {
  type: "linear";
  factor: number;
}

export type RopeScaling = YarnScaling | Llama3Scaling | LinearScaling;

export interface RopeConfig {
  theta: number;
  /** Rotated dims per head (the whole head for Qwen2/Llama, qk_rope_head_dim for MLA). */
  dim: number;
  /** Pairs (2i, 2i+1) when true; pairs (i, i + dim/2) otherwise. A property of the weights' layout, see load.ts. */
  interleaved: boolean;
  scaling?: RopeScaling;
  /** GGUF llama's rope_freqs tensor: per-pair divisors of the base frequency (llama3 scaling baked in). */
  freqFactors?: Float32Array;
}

interface BaseConfig {
  vocabSize: number;
  hidden: number;
  nLayers: number;
  nHeads: number;
  rmsEps: number;
  maxPos: number;
  tieEmbeddings: boolean;
  rope: RopeConfig;
  bosId?: number;
  eosIds: number[];
}

/** Qwen2 and Llama: the R1-Distill family. */
export interface DenseConfig extends BaseConfig {
  arch: "qwen2" | "llama";
  nKvHeads: number;
  headDim: number;
  intermediate: number;
  /** Biases on q/k/v projections (Qwen2 always; Llama when attention_bias). */
  qkvBias: boolean;
}

/** DeepSeek-V3 / R1 (and V2-Lite-style when qLoraRank is null). */
export interface DeepseekV3Config extends BaseConfig {
  arch: "deepseek_v3";
  qLoraRank: number | null;
  kvLoraRank: number;
  qkNopeDim: number;
  qkRopeDim: number;
  vHeadDim: number;
  intermediate: number;
  moeIntermediate: number;
  nRoutedExperts: number;
  nSharedExperts: number;
  topK: number;
  nGroup: number;
  topkGroup: number;
  normTopkProb: boolean;
  routedScalingFactor: number;
  /** Layers [0, firstKDense) use a dense SwiGLU FFN; the rest MoE (every moeLayerFreq-th). */
  firstKDense: number;
  moeLayerFreq: number;
  scoring: "sigmoid" | "softmax";
  /** noaux_tc: e_score_correction_bias is added to the scores for selection only. */
  selectionBias: boolean;
  /** Multi-token-prediction layers stored after the main ones (index nLayers..); kept out of the forward pass. */
  nMtpLayers: number;
}

export type ModelConfig = DenseConfig | DeepseekV3Config;
export type Arch = ModelConfig["arch"];

/** Defaults from generation_config.json (sampling the checkpoint's authors recommend). */
export interface GenerationDefaults {
  temperature?: number;
  topP?: number;
  topK?: number;
  eosIds: number[];
  bosId?: number;
}

export function headDimOf(c: ModelConfig): number {
  return c.arch === "deepseek_v3" ? c.qkNopeDim + c.qkRopeDim : c.headDim;
}

/** Values cached per token across all layers: K and V for GQA; the latent plus the rotary key for MLA. */
export function kvValuesPerToken(c: ModelConfig): number {
  if (c.arch === "deepseek_v3") return c.nLayers * (c.kvLoraRank + c.qkRopeDim);
  return c.nLayers * 2 * c.nKvHeads * c.headDim;
}

export function isMoeLayer(c: DeepseekV3Config, layer: number): boolean {
  return layer >= c.firstKDense && layer % c.moeLayerFreq === 0;
}

/** Checks every dimension is a positive integer; a zero or fractional size becomes a config error, not NaNs. */
export function checkDims(where: string, c: ModelConfig): void {
  const dims: [string, number][] = [
    ["vocab_size", c.vocabSize],
    ["hidden_size", c.hidden],
    ["num_hidden_layers", c.nLayers],
    ["num_attention_heads", c.nHeads],
  ];
  if (c.arch === "deepseek_v3") {
    dims.push(["kv_lora_rank", c.kvLoraRank], ["qk_rope_head_dim", c.qkRopeDim], ["v_head_dim", c.vHeadDim]);
    if (c.nGroup < 1 || c.nRoutedExperts % c.nGroup !== 0)
      throw configError(where, "n_group", `${c.nGroup} does not divide n_routed_experts ${c.nRoutedExperts}`);
    if (c.topkGroup > c.nGroup) throw configError(where, "topk_group", `${c.topkGroup} > n_group ${c.nGroup}`);
    if (c.topK > (c.nRoutedExperts / c.nGroup) * c.topkGroup)
      throw configError(where, "num_experts_per_tok", `${c.topK} exceeds the experts in ${c.topkGroup} groups`);
  } else {
    dims.push(["num_key_value_heads", c.nKvHeads], ["head_dim", c.headDim], ["intermediate_size", c.intermediate]);
    if (c.nHeads % c.nKvHeads !== 0)
      throw configError(where, "num_key_value_heads", `${c.nKvHeads} does not divide ${c.nHeads} heads`);
  }
  for (const [name, v] of dims)
    if (!Number.isInteger(v) || v <= 0) throw configError(where, name, `must be a positive integer, got ${v}`);
  if (c.rope.dim % 2 !== 0) throw configError(where, "rope dimension", `must be even, got ${c.rope.dim}`);
}

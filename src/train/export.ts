// Trained model -> a Hugging Face folder laid out like deepseek-ai/DeepSeek-R1: config.json (model_type
// deepseek_v3, quantization_config fp8 e4m3 128x128), model.safetensors with F8_E4M3 Linear weights and F32
// weight_scale_inv block scales, BF16 embeddings / norms / router / head, F32 e_score_correction_bias;
// tokenizer.json, tokenizer_config.json (R1's chat template) and generation_config.json.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bf16ToF32, E4M3_LUT as E4M3, f32ToBf16, f32ToE4M3 } from "../core/dtype.js";
import type { Tensor } from "../core/tensor.js";
import { openSafetensorsFolder } from "../formats/safetensors.js";
import { writeSafetensors } from "../formats/safetensors_write.js";
import { BOS_ID, EOS_ID, tokenizerConfig, tokenizerJson } from "./data/vocab.js";
import type { TinyConfig, TinyV3 } from "./model.js";
import { FP8_TILE, weightScales } from "./precision.js";

/** Linear weights that V3 stores in FP8: everything but embedding, head, norms and the router. */
export function isFp8Linear(name: string): boolean {
  return /\.(q_(a_|b_)?proj|kv_a_proj_with_mqa|kv_b_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/.test(name);
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function bf16Tensor(d: Float32Array, shape: number[]): Tensor {
  const u = new Uint16Array(d.length);
  for (let i = 0; i < d.length; i++) u[i] = f32ToBf16(d[i]);
  return { dtype: "bf16", shape, bytes: bytesOf(u) };
}

/** E4M3 bytes and the [ceil(M/128), ceil(K/128)] f32 scales the runtime multiplies back in. */
export function fp8Tensor(d: Float32Array, M: number, K: number): { w: Tensor; s: Tensor } {
  const s = weightScales(d, M, K);
  const bk = Math.ceil(K / FP8_TILE);
  const q = new Uint8Array(M * K);
  for (let m = 0; m < M; m++)
    for (let k = 0; k < K; k++)
      q[m * K + k] = f32ToE4M3(d[m * K + k] / s[Math.floor(m / FP8_TILE) * bk + Math.floor(k / FP8_TILE)]);
  return {
    w: { dtype: "f8_e4m3", shape: [M, K], bytes: q },
    s: { dtype: "f32", shape: [Math.ceil(M / FP8_TILE), bk], bytes: bytesOf(s) },
  };
}

export function hfConfig(c: TinyConfig): Record<string, unknown> {
  return {
    architectures: ["DeepseekV3ForCausalLM"],
    model_type: "deepseek_v3",
    vocab_size: c.vocabSize,
    hidden_size: c.hidden,
    intermediate_size: c.intermediate,
    moe_intermediate_size: c.moeIntermediate,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nHeads,
    n_shared_experts: c.nSharedExperts,
    n_routed_experts: c.nRoutedExperts,
    num_experts_per_tok: c.topK,
    n_group: 1,
    topk_group: 1,
    topk_method: "noaux_tc",
    scoring_func: "sigmoid",
    norm_topk_prob: c.normTopkProb,
    routed_scaling_factor: c.routedScalingFactor,
    first_k_dense_replace: c.firstKDense,
    moe_layer_freq: 1,
    q_lora_rank: c.qLoraRank || null, // 0: no query LoRA, which HF's config spells null (V2-Lite)
    kv_lora_rank: c.kvLoraRank,
    qk_nope_head_dim: c.qkNopeDim,
    qk_rope_head_dim: c.qkRopeDim,
    v_head_dim: c.vHeadDim,
    hidden_act: "silu",
    max_position_embeddings: c.maxPos,
    rms_norm_eps: c.rmsEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0,
    tie_word_embeddings: false,
    num_nextn_predict_layers: 0,
    bos_token_id: BOS_ID,
    eos_token_id: EOS_ID,
    torch_dtype: "bfloat16",
    use_cache: true,
    quantization_config: {
      activation_scheme: "dynamic",
      fmt: "e4m3",
      quant_method: "fp8",
      weight_block_size: [128, 128],
    },
  };
}

/** Writes the whole folder; `meta` lands in the safetensors header (string values only). */
export function exportHf(model: TinyV3, dir: string, meta: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, Tensor> = {};
  for (const [name, p] of model.params) {
    if (isFp8Linear(name)) {
      const { w, s } = fp8Tensor(p.data, p.shape[0], p.shape[1]);
      tensors[name] = w;
      tensors[name.replace(/\.weight$/, ".weight_scale_inv")] = s;
    } else tensors[name] = bf16Tensor(p.data, p.shape);
    const m = /^(model\.layers\.(\d+)\.mlp)\.gate\.weight$/.exec(name);
    if (m) {
      const st = model.moe[Number(m[2])]!;
      tensors[`${m[1]}.gate.e_score_correction_bias`] = {
        dtype: "f32",
        shape: [st.bias.length],
        bytes: bytesOf(Float32Array.from(st.bias)),
      };
    }
  }
  writeSafetensors(join(dir, "model.safetensors"), tensors, { format: "pt", ...meta });
  const json = (f: string, v: unknown) => writeFileSync(join(dir, f), `${JSON.stringify(v, null, 2)}\n`);
  json("config.json", hfConfig(model.cfg));
  json("generation_config.json", {
    bos_token_id: BOS_ID,
    eos_token_id: EOS_ID,
    do_sample: true,
    temperature: 0.6,
    top_p: 0.95,
  });
  json("tokenizer.json", tokenizerJson());
  json("tokenizer_config.json", tokenizerConfig());
}

/**
 * The weights the exported folder decodes to, as f32: FP8 Linear weights dequantized, BF16 tensors rounded.
 * Loading these into the trainer makes its forward pass comparable with the runtime's.
 */
export function exportedWeights(model: TinyV3): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, p] of model.params) {
    if (isFp8Linear(name)) {
      const [M, K] = p.shape;
      const { w, s } = fp8Tensor(p.data, M, K);
      const sc = new Float32Array(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength / 4);
      const bk = Math.ceil(K / FP8_TILE);
      const d = new Float32Array(M * K);
      for (let m = 0; m < M; m++)
        for (let k = 0; k < K; k++)
          d[m * K + k] = E4M3[w.bytes[m * K + k]] * sc[Math.floor(m / FP8_TILE) * bk + Math.floor(k / FP8_TILE)];
      out.set(name, d);
    } else {
      const d = new Float32Array(p.data.length);
      const u = new Uint32Array(d.buffer);
      for (let i = 0; i < d.length; i++) u[i] = f32ToBf16(p.data[i]) << 16;
      out.set(name, d);
    }
  }
  return out;
}

/**
 * The inverse of exportHf: loads an exported folder's weights into `model` (FP8 dequantized with its block
 * scales, BF16 widened, the routing biases), so a shipped model (models/r1-tiny) can teach without the run
 * folder it came from. The model's config must be the folder's; a missing or misshapen tensor throws.
 */
export function importHf(dir: string, model: TinyV3): void {
  const src = openSafetensorsFolder(dir);
  try {
    const f32 = (name: string, want: number[]): Float32Array => {
      const t = src.load(name);
      if (t.shape.join() !== want.join())
        throw new Error(`${dir}: ${name} has shape [${t.shape}], the model wants [${want}]`);
      const n = want.reduce((a, b) => a * b, 1);
      if (t.dtype === "f32") return new Float32Array(t.bytes.slice().buffer, 0, n);
      if (t.dtype === "bf16") {
        const u = new Uint16Array(t.bytes.slice().buffer, 0, n);
        return Float32Array.from(u, bf16ToF32);
      }
      if (t.dtype === "f8_e4m3") return Float32Array.from(t.bytes.subarray(0, n), (b) => E4M3[b]);
      throw new Error(`${dir}: ${name} is ${t.dtype}, not a dtype exportHf writes`);
    };
    for (const [name, p] of model.params) {
      const d = f32(name, p.shape);
      if (isFp8Linear(name)) {
        const [M, K] = p.shape;
        const bk = Math.ceil(K / FP8_TILE);
        const sc = f32(name.replace(/\.weight$/, ".weight_scale_inv"), [Math.ceil(M / FP8_TILE), bk]);
        for (let m = 0; m < M; m++)
          for (let k = 0; k < K; k++) d[m * K + k] *= sc[Math.floor(m / FP8_TILE) * bk + Math.floor(k / FP8_TILE)];
      }
      p.data.set(d);
      const m = /^(model\.layers\.(\d+)\.mlp)\.gate\.weight$/.exec(name);
      if (m) {
        const st = model.moe[Number(m[2])]!;
        st.bias.set(f32(`${m[1]}.gate.e_score_correction_bias`, [st.bias.length]));
      }
    }
  } finally {
    src.close();
  }
}

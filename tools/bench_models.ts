// Deterministic random-weight checkpoints for `npm run bench`, cached in .cache/bench and rebuilt when missing:
// the exact shapes of R1-Distill-Qwen-1.5B as GGUF Q8_0, Q4_K_M-style (Q4_K with Q6_K for output, and for
// attn_v / ffn_down on llama.cpp's "more bits" layers) and F16, and as BF16 safetensors; and a DeepSeek-V3-shaped
// FP8 (E4M3, 128x128 block scales) MoE at 8 and 64 routed experts with the same active experts per token.
// Weights are random bytes in each format's layout with scales chosen to keep activations finite: the bench
// measures speed, not quality, so no quantizer runs (that would take minutes per model).

import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type DType, f32ToBf16, f32ToE4M3, f32ToF16, rowBytes } from "../src/core/dtype.js";
import { alignedBytes, type Tensor } from "../src/core/tensor.js";
import { type GGUFWriteValue, writeGGUF } from "../src/formats/gguf_write.js";
import { writeSafetensorsSharded } from "../src/formats/safetensors_write.js";
import { FIXTURES } from "../test/fixtures.js";

export const QWEN_1_5B = {
  name: "qwen1.5b",
  hidden: 1536,
  layers: 28,
  heads: 12,
  kvHeads: 2,
  inter: 8960,
  vocab: 151936,
  ctx: 4096,
  theta: 10000,
  eos: 151643,
};
export type QwenShape = typeof QWEN_1_5B;

/** R1-Distill-Qwen-7B's shapes: at Q8_0 about 8.1 GB, twice what one wasm32 memory can hold. */
export const QWEN_7B: QwenShape = {
  ...QWEN_1_5B,
  name: "qwen7b",
  hidden: 3584,
  heads: 28,
  kvHeads: 4,
  inter: 18944,
  vocab: 152064,
};

// ---- random tensors in each storage format -------------------------------------------------------------------

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  fill(u8: Uint8Array): void {
    const n4 = u8.length >>> 2;
    const w = new Uint32Array(u8.buffer, u8.byteOffset, n4);
    let s = this.s;
    for (let i = 0; i < n4; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      w[i] = s;
    }
    for (let i = n4 * 4; i < u8.length; i++) u8[i] = s >>> (8 * (i & 3));
    this.s = s >>> 0;
  }
}

/** 256 codes of a 16-bit float format for values spread uniformly over ±amp: a random byte picks one. */
function codeTable16(encode: (x: number) => number, amp: number): Uint16Array {
  return Uint16Array.from({ length: 256 }, (_, i) => encode(((i + 0.5) / 128 - 1) * amp));
}

function f16bits(x: number): Uint8Array {
  const h = f32ToF16(x);
  return Uint8Array.of(h & 0xff, h >>> 8);
}

let seedCounter = 1;

/** A [rows, cols] tensor of `dtype` with values of roughly ±amp. */
export function randomTensor(dtype: DType, shape: number[], amp: number): Tensor {
  const rows = shape.length === 1 ? 1 : shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const cols = shape[shape.length - 1];
  const size = rowBytes(dtype, cols) * rows;
  const bytes = alignedBytes(size);
  const rng = new Rng(seedCounter++ * 2654435761);
  rng.fill(bytes);
  const setD = (blockBytes: number, at: number, d: number) => {
    const b = f16bits(d);
    for (let o = at; o < size; o += blockBytes) bytes.set(b, o);
  };
  switch (dtype) {
    case "f32": {
      const f = new Float32Array(bytes.buffer, 0, rows * cols);
      for (let i = 0; i < f.length; i++) f[i] = (bytes[i * 4] / 128 - 1) * amp || amp / 256;
      break;
    }
    case "f16":
    case "bf16": {
      const t = codeTable16(dtype === "f16" ? f32ToF16 : f32ToBf16, amp);
      const u = new Uint16Array(bytes.buffer, 0, rows * cols);
      for (let i = 0; i < u.length; i++) u[i] = t[u[i] & 0xff];
      break;
    }
    case "f8_e4m3": {
      // Codes of magnitude <= 64 (no NaN); the block scales bring them to ±amp.
      const t = Uint8Array.from({ length: 256 }, (_, i) => f32ToE4M3(((i + 0.5) / 128 - 1) * 64));
      for (let i = 0; i < size; i++) bytes[i] = t[bytes[i]];
      break;
    }
    case "q8_0":
      setD(34, 0, amp / 127);
      break;
    case "q4_0":
      setD(18, 0, amp / 8);
      break;
    case "q4_k":
      // x = d*sc*q - dmin*m with sc, m 6-bit and q 4-bit: d*63*15 ~ 2*amp, dmin*63 ~ amp.
      setD(144, 0, (2 * amp) / 945);
      setD(144, 2, amp / 63);
      break;
    case "q6_k":
      setD(210, 208, amp / (128 * 32));
      break;
    default:
      throw new Error(`randomTensor: ${dtype}`);
  }
  return { dtype, shape, bytes };
}

function ones(shape: number[], dtype: DType = "f32"): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = alignedBytes(rowBytes(dtype, n));
  if (dtype === "f32") new Float32Array(bytes.buffer, 0, n).fill(1);
  else new Uint16Array(bytes.buffer, 0, n).fill(f32ToBf16(1));
  return { dtype, shape, bytes };
}

// ---- R1-Distill-Qwen-1.5B shapes ---------------------------------------------------------------------------------

export type QwenVariant = "q8_0" | "q4_k_m" | "f16";

/** llama.cpp's use_more_bits(i, n): the first and last eighth of the layers and every third one between. */
function moreBits(i: number, n: number): boolean {
  return i < n / 8 || i >= (7 * n) / 8 || (i - Math.floor(n / 8)) % 3 === 2;
}

function qwenTensors(
  kind: QwenVariant | "bf16",
  names: "gguf" | "hf",
  c: QwenShape = QWEN_1_5B,
): Record<string, Tensor> {
  const hd = c.hidden / c.heads;
  const base: DType = kind === "q4_k_m" ? "q4_k" : kind;
  const pick = (role: "v" | "down" | "output" | "other", layer: number): DType => {
    if (kind !== "q4_k_m") return base;
    if (role === "output") return "q6_k";
    if ((role === "v" || role === "down") && moreBits(layer, c.layers)) return "q6_k";
    return "q4_k";
  };
  const normType: DType = names === "hf" ? "bf16" : "f32";
  const t: Record<string, Tensor> = {};
  const n = (gguf: string, hf: string) => (names === "gguf" ? `${gguf}.weight` : `${hf}.weight`);
  const bias = (gguf: string, hf: string) => (names === "gguf" ? `${gguf}.bias` : `${hf}.bias`);
  const amp = 1 / Math.sqrt(c.hidden);
  t[n("token_embd", "model.embed_tokens")] = randomTensor(base, [c.vocab, c.hidden], 0.05);
  for (let l = 0; l < c.layers; l++) {
    const g = `blk.${l}`;
    const h = `model.layers.${l}`;
    t[n(`${g}.attn_norm`, `${h}.input_layernorm`)] = ones([c.hidden], normType);
    t[n(`${g}.attn_q`, `${h}.self_attn.q_proj`)] = randomTensor(pick("other", l), [c.hidden, c.hidden], amp);
    t[bias(`${g}.attn_q`, `${h}.self_attn.q_proj`)] = randomTensor(names === "hf" ? "bf16" : "f32", [c.hidden], 0.01);
    t[n(`${g}.attn_k`, `${h}.self_attn.k_proj`)] = randomTensor(pick("other", l), [c.kvHeads * hd, c.hidden], amp);
    t[bias(`${g}.attn_k`, `${h}.self_attn.k_proj`)] = randomTensor(
      names === "hf" ? "bf16" : "f32",
      [c.kvHeads * hd],
      0.01,
    );
    t[n(`${g}.attn_v`, `${h}.self_attn.v_proj`)] = randomTensor(pick("v", l), [c.kvHeads * hd, c.hidden], amp);
    t[bias(`${g}.attn_v`, `${h}.self_attn.v_proj`)] = randomTensor(
      names === "hf" ? "bf16" : "f32",
      [c.kvHeads * hd],
      0.01,
    );
    t[n(`${g}.attn_output`, `${h}.self_attn.o_proj`)] = randomTensor(pick("other", l), [c.hidden, c.hidden], amp);
    t[n(`${g}.ffn_norm`, `${h}.post_attention_layernorm`)] = ones([c.hidden], normType);
    t[n(`${g}.ffn_gate`, `${h}.mlp.gate_proj`)] = randomTensor(pick("other", l), [c.inter, c.hidden], amp);
    t[n(`${g}.ffn_up`, `${h}.mlp.up_proj`)] = randomTensor(pick("other", l), [c.inter, c.hidden], amp);
    t[n(`${g}.ffn_down`, `${h}.mlp.down_proj`)] = randomTensor(
      pick("down", l),
      [c.hidden, c.inter],
      1 / Math.sqrt(c.inter),
    );
  }
  t[n("output_norm", "model.norm")] = ones([c.hidden], normType);
  t[n("output", "lm_head")] = randomTensor(pick("output", 0), [c.vocab, c.hidden], amp);
  return t;
}

/** GPT-2's byte-to-unicode map: the 256 single-byte tokens a byte-level BPE vocab must hold. */
function byteTokens(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const out: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = keep.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  return out;
}

function qwenGgufMeta(kind: QwenVariant, c: QwenShape): Record<string, GGUFWriteValue> {
  const tokens = byteTokens();
  for (let i = tokens.length; i < c.vocab; i++) tokens.push(`<r1ts_${i}>`);
  const types = tokens.map((_, i) => (i === c.eos ? 3 : 1));
  const u32 = (value: number): GGUFWriteValue => ({ type: "u32", value });
  return {
    "general.architecture": { type: "string", value: "qwen2" },
    "general.name": { type: "string", value: `r1ts-bench-${c.name}-${kind}` },
    "general.file_type": u32(kind === "q8_0" ? 7 : kind === "q4_k_m" ? 15 : 1),
    "qwen2.block_count": u32(c.layers),
    "qwen2.context_length": u32(c.ctx),
    "qwen2.embedding_length": u32(c.hidden),
    "qwen2.feed_forward_length": u32(c.inter),
    "qwen2.attention.head_count": u32(c.heads),
    "qwen2.attention.head_count_kv": u32(c.kvHeads),
    "qwen2.rope.freq_base": { type: "f32", value: c.theta },
    "qwen2.attention.layer_norm_rms_epsilon": { type: "f32", value: 1e-6 },
    "tokenizer.ggml.model": { type: "string", value: "gpt2" },
    "tokenizer.ggml.pre": { type: "string", value: "qwen2" },
    "tokenizer.ggml.tokens": { type: "array", elem: "string", value: tokens },
    "tokenizer.ggml.token_type": { type: "array", elem: "i32", value: types },
    "tokenizer.ggml.merges": { type: "array", elem: "string", value: [] },
    "tokenizer.ggml.bos_token_id": u32(c.eos),
    "tokenizer.ggml.eos_token_id": u32(c.eos),
  };
}

export function qwenGguf(dir: string, kind: QwenVariant, shape: QwenShape = QWEN_1_5B): string {
  const file = join(dir, `${shape.name}-${kind}.gguf`);
  if (!existsSync(file)) {
    console.error(`bench: writing ${file}`);
    writeGGUF(file, qwenGgufMeta(kind, shape), qwenTensors(kind, "gguf", shape));
  }
  return file;
}

export function qwenBf16(dir: string): string {
  const out = join(dir, "qwen1.5b-bf16");
  if (!existsSync(join(out, "config.json"))) {
    console.error(`bench: writing ${out}/`);
    mkdirSync(out, { recursive: true });
    const c = QWEN_1_5B;
    writeSafetensorsSharded(out, qwenTensors("bf16", "hf"), 2 ** 31);
    const config = {
      architectures: ["Qwen2ForCausalLM"],
      model_type: "qwen2",
      hidden_size: c.hidden,
      intermediate_size: c.inter,
      num_hidden_layers: c.layers,
      num_attention_heads: c.heads,
      num_key_value_heads: c.kvHeads,
      vocab_size: c.vocab,
      max_position_embeddings: c.ctx,
      rms_norm_eps: 1e-6,
      rope_theta: c.theta,
      tie_word_embeddings: false,
      bos_token_id: c.eos,
      eos_token_id: c.eos,
      torch_dtype: "bfloat16",
    };
    writeFileSync(join(out, "config.json"), JSON.stringify(config, null, 2));
  }
  // The tiny Qwen2 fixture's tokenizer, so `r1 run --model <this> --prompt ...` works (config vocab is larger
  // than the tokenizer, as in the real models).
  for (const f of ["tokenizer.json", "tokenizer_config.json"])
    if (!existsSync(join(out, f))) copyFileSync(join(FIXTURES, "tiny-qwen2", "hf", f), join(out, f));
  return out;
}

// ---- DeepSeek-V3-shaped FP8 MoE ----------------------------------------------------------------------------------

/** V3's layout scaled to this machine: MLA, 1 dense + 5 MoE layers, 1 shared + topK 4 routed experts. */
export const V3_SMALL = {
  hidden: 2048,
  layers: 6,
  denseLayers: 1,
  heads: 16,
  qLora: 768,
  kvLora: 512,
  nope: 128,
  rope: 64,
  v: 128,
  inter: 5632,
  moeInter: 768,
  shared: 1,
  topK: 4,
  vocab: 32000,
};

function fp8(shape: [number, number], amp: number): Tensor[] {
  const w = randomTensor("f8_e4m3", shape, amp);
  const sr = Math.ceil(shape[0] / 128);
  const sc = Math.ceil(shape[1] / 128);
  const bytes = alignedBytes(sr * sc * 4);
  new Float32Array(bytes.buffer, 0, sr * sc).fill(amp / 32);
  return [w, { dtype: "f32", shape: [sr, sc], bytes }];
}

export function v3Moe(dir: string, experts: number): string {
  const out = join(dir, `v3-fp8-e${experts}`);
  if (existsSync(join(out, "config.json"))) return out;
  console.error(`bench: writing ${out}/`);
  mkdirSync(out, { recursive: true });
  const c = V3_SMALL;
  const t: Record<string, Tensor> = {};
  const lin = (name: string, rows: number, cols: number) => {
    const [w, s] = fp8([rows, cols], 1 / Math.sqrt(cols));
    t[`${name}.weight`] = w;
    t[`${name}.weight_scale_inv`] = s;
  };
  t["model.embed_tokens.weight"] = randomTensor("bf16", [c.vocab, c.hidden], 0.05);
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}`;
    t[`${p}.input_layernorm.weight`] = ones([c.hidden], "bf16");
    lin(`${p}.self_attn.q_a_proj`, c.qLora, c.hidden);
    t[`${p}.self_attn.q_a_layernorm.weight`] = ones([c.qLora], "bf16");
    lin(`${p}.self_attn.q_b_proj`, c.heads * (c.nope + c.rope), c.qLora);
    lin(`${p}.self_attn.kv_a_proj_with_mqa`, c.kvLora + c.rope, c.hidden);
    t[`${p}.self_attn.kv_a_layernorm.weight`] = ones([c.kvLora], "bf16");
    lin(`${p}.self_attn.kv_b_proj`, c.heads * (c.nope + c.v), c.kvLora);
    lin(`${p}.self_attn.o_proj`, c.hidden, c.heads * c.v);
    t[`${p}.post_attention_layernorm.weight`] = ones([c.hidden], "bf16");
    if (l < c.denseLayers) {
      lin(`${p}.mlp.gate_proj`, c.inter, c.hidden);
      lin(`${p}.mlp.up_proj`, c.inter, c.hidden);
      lin(`${p}.mlp.down_proj`, c.hidden, c.inter);
      continue;
    }
    t[`${p}.mlp.gate.weight`] = randomTensor("bf16", [experts, c.hidden], 0.05);
    t[`${p}.mlp.gate.e_score_correction_bias`] = randomTensor("f32", [experts], 0.01);
    for (let e = 0; e < experts; e++) {
      lin(`${p}.mlp.experts.${e}.gate_proj`, c.moeInter, c.hidden);
      lin(`${p}.mlp.experts.${e}.up_proj`, c.moeInter, c.hidden);
      lin(`${p}.mlp.experts.${e}.down_proj`, c.hidden, c.moeInter);
    }
    lin(`${p}.mlp.shared_experts.gate_proj`, c.moeInter * c.shared, c.hidden);
    lin(`${p}.mlp.shared_experts.up_proj`, c.moeInter * c.shared, c.hidden);
    lin(`${p}.mlp.shared_experts.down_proj`, c.hidden, c.moeInter * c.shared);
  }
  t["model.norm.weight"] = ones([c.hidden], "bf16");
  t["lm_head.weight"] = randomTensor("bf16", [c.vocab, c.hidden], 1 / Math.sqrt(c.hidden));
  writeSafetensorsSharded(out, t, 2 ** 31);
  const config = {
    architectures: ["DeepseekV3ForCausalLM"],
    model_type: "deepseek_v3",
    hidden_size: c.hidden,
    intermediate_size: c.inter,
    moe_intermediate_size: c.moeInter,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: c.heads,
    q_lora_rank: c.qLora,
    kv_lora_rank: c.kvLora,
    qk_nope_head_dim: c.nope,
    qk_rope_head_dim: c.rope,
    v_head_dim: c.v,
    n_routed_experts: experts,
    n_shared_experts: c.shared,
    num_experts_per_tok: c.topK,
    n_group: 1,
    topk_group: 1,
    norm_topk_prob: true,
    routed_scaling_factor: 2.5,
    scoring_func: "sigmoid",
    topk_method: "noaux_tc",
    first_k_dense_replace: c.denseLayers,
    moe_layer_freq: 1,
    num_nextn_predict_layers: 0,
    vocab_size: c.vocab,
    max_position_embeddings: 4096,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    tie_word_embeddings: false,
    bos_token_id: 0,
    eos_token_id: 1,
    quantization_config: {
      activation_scheme: "dynamic",
      fmt: "e4m3",
      quant_method: "fp8",
      weight_block_size: [128, 128],
    },
    torch_dtype: "bfloat16",
  };
  writeFileSync(join(out, "config.json"), JSON.stringify(config, null, 2));
  return out;
}

// Llama (R1-Distill-Llama) has no llama.cpp fixture here, so this checks the two ways the same weights arrive:
// an HF folder (NeoX rotate-half RoPE, llama3 rope_scaling in config.json) and a GGUF written the way
// llama.cpp's convert_hf_to_gguf.py writes it (q/k rows permuted for interleaved RoPE, llama3 scaling baked
// into a rope_freqs tensor). Both must give the same logits; if either path were wrong they would differ.

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { alignedBytes, type Tensor } from "../src/core/tensor.js";
import { writeGGUF } from "../src/formats/gguf_write.js";
import { writeSafetensors } from "../src/formats/safetensors_write.js";
import { loadModel } from "../src/models/load.js";
import { FIXTURES, tempDir } from "./fixtures.js";

const H = 64;
const HEADS = 4;
const KV = 2;
const HD = H / HEADS;
const INTER = 96;
const VOCAB = 300;
const LAYERS = 2;
const SCALING = {
  rope_type: "llama3",
  factor: 8,
  low_freq_factor: 1,
  high_freq_factor: 4,
  original_max_position_embeddings: 32,
};
const THETA = 500000;

function f32(shape: number[], data: Float32Array): Tensor {
  const bytes = alignedBytes(data.length * 4);
  new Float32Array(bytes.buffer, 0, data.length).set(data);
  return { dtype: "f32", shape, bytes };
}

/** convert_hf_to_gguf.py LlamaModel.permute: rows [h, 2, hd/2] -> [h, hd/2, 2]. */
function permute(w: Float32Array, rows: number, cols: number, nHead: number): Float32Array {
  const out = new Float32Array(w.length);
  const hd = rows / nHead;
  for (let h = 0; h < nHead; h++)
    for (let half = 0; half < 2; half++)
      for (let i = 0; i < hd / 2; i++) {
        const src = h * hd + half * (hd / 2) + i;
        const dst = h * hd + i * 2 + half;
        out.set(w.subarray(src * cols, (src + 1) * cols), dst * cols);
      }
  return out;
}

test("llama: HF folder and converted GGUF agree (RoPE layout, llama3 scaling)", () => {
  let s = 12345;
  const rnd = (n: number, std = 0.08) =>
    Float32Array.from({ length: n }, () => {
      s = (s * 1103515245 + 12345) >>> 0;
      return ((s / 2 ** 32) * 2 - 1) * std * 1.7;
    });
  const hf: Record<string, Tensor> = {};
  const gg: Record<string, Tensor> = {};
  const both = (hfName: string, ggName: string, shape: number[], data: Float32Array, gguf = data) => {
    hf[hfName] = f32(shape, data);
    gg[ggName] = f32(shape, gguf);
  };
  both("model.embed_tokens.weight", "token_embd.weight", [VOCAB, H], rnd(VOCAB * H, 0.5));
  for (let l = 0; l < LAYERS; l++) {
    const p = `model.layers.${l}`;
    const b = `blk.${l}`;
    both(
      `${p}.input_layernorm.weight`,
      `${b}.attn_norm.weight`,
      [H],
      rnd(H, 0.2).map((x) => 1 + x),
    );
    const q = rnd(H * H);
    const k = rnd(KV * HD * H);
    both(`${p}.self_attn.q_proj.weight`, `${b}.attn_q.weight`, [H, H], q, permute(q, H, H, HEADS));
    both(`${p}.self_attn.k_proj.weight`, `${b}.attn_k.weight`, [KV * HD, H], k, permute(k, KV * HD, H, KV));
    both(`${p}.self_attn.v_proj.weight`, `${b}.attn_v.weight`, [KV * HD, H], rnd(KV * HD * H));
    both(`${p}.self_attn.o_proj.weight`, `${b}.attn_output.weight`, [H, H], rnd(H * H));
    both(
      `${p}.post_attention_layernorm.weight`,
      `${b}.ffn_norm.weight`,
      [H],
      rnd(H, 0.2).map((x) => 1 + x),
    );
    both(`${p}.mlp.gate_proj.weight`, `${b}.ffn_gate.weight`, [INTER, H], rnd(INTER * H));
    both(`${p}.mlp.up_proj.weight`, `${b}.ffn_up.weight`, [INTER, H], rnd(INTER * H));
    both(`${p}.mlp.down_proj.weight`, `${b}.ffn_down.weight`, [H, INTER], rnd(INTER * H));
  }
  both(
    "model.norm.weight",
    "output_norm.weight",
    [H],
    rnd(H, 0.2).map((x) => 1 + x),
  );
  both("lm_head.weight", "output.weight", [VOCAB, H], rnd(VOCAB * H));
  // llama.cpp's rope_freqs: per-pair divisors equivalent to HF's llama3 scaling.
  const factors = new Float32Array(HD / 2);
  const lowW = SCALING.original_max_position_embeddings / SCALING.low_freq_factor;
  const highW = SCALING.original_max_position_embeddings / SCALING.high_freq_factor;
  for (let i = 0; i < HD / 2; i++) {
    const wavelen = (2 * Math.PI) / (1 / THETA ** ((2 * i) / HD));
    if (wavelen < highW) factors[i] = 1;
    else if (wavelen > lowW) factors[i] = SCALING.factor;
    else {
      const smooth = (SCALING.original_max_position_embeddings / wavelen - 1) / (4 - 1);
      factors[i] = 1 / ((1 - smooth) / SCALING.factor + smooth);
    }
  }
  gg["rope_freqs.weight"] = f32([HD / 2], factors);

  const dir = tempDir("r1-llama-");
  const hfDir = join(dir, "hf");
  mkdirSync(hfDir);
  writeSafetensors(join(hfDir, "model.safetensors"), hf);
  writeFileSync(
    join(hfDir, "config.json"),
    JSON.stringify({
      model_type: "llama",
      vocab_size: VOCAB,
      hidden_size: H,
      intermediate_size: INTER,
      num_hidden_layers: LAYERS,
      num_attention_heads: HEADS,
      num_key_value_heads: KV,
      rms_norm_eps: 1e-5,
      rope_theta: THETA,
      rope_scaling: SCALING,
      max_position_embeddings: 256,
      eos_token_id: 1,
    }),
  );
  for (const f of ["tokenizer.json", "tokenizer_config.json"])
    copyFileSync(join(FIXTURES, "tiny-qwen2", "hf", f), join(hfDir, f));
  const ggufPath = join(dir, "model.gguf");
  writeGGUF(
    ggufPath,
    {
      "general.architecture": { type: "string", value: "llama" },
      "llama.block_count": { type: "u32", value: LAYERS },
      "llama.context_length": { type: "u32", value: 256 },
      "llama.embedding_length": { type: "u32", value: H },
      "llama.feed_forward_length": { type: "u32", value: INTER },
      "llama.attention.head_count": { type: "u32", value: HEADS },
      "llama.attention.head_count_kv": { type: "u32", value: KV },
      "llama.rope.freq_base": { type: "f32", value: THETA },
      "llama.rope.dimension_count": { type: "u32", value: HD },
      "llama.attention.layer_norm_rms_epsilon": { type: "f32", value: 1e-5 },
      "llama.vocab_size": { type: "u32", value: VOCAB },
    },
    gg,
  );
  const a = loadModel(hfDir).model;
  const b = loadModel(ggufPath).model;
  assert.equal(a.config.rope.interleaved, false);
  assert.equal(b.config.rope.interleaved, true);
  // 100 positions: far past original_max_position_embeddings (32), where llama3 scaling changes the angles.
  const tokens = Array.from({ length: 100 }, (_, i) => (i * 37 + 11) % VOCAB);
  const la = a.forward(tokens, a.newCache(128), true);
  const lb = b.forward(tokens, b.newCache(128), true);
  let max = 0;
  for (let i = 0; i < la.length; i++) max = Math.max(max, Math.abs(la[i] - lb[i]));
  assert.ok(max < 1e-4, `max |Δlogit| ${max}`);
});

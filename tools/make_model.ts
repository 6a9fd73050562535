// Deterministic random-weight checkpoints in the exact shapes of real models, for load and speed tests
// (never committed: written under .cache/). Usage:
//   node dist/tools/make_model.js qwen2-1.5b-bf16 [outDir]
// Weights ~ N(0, 0.02²) from a seeded generator, norms 1; the tokenizer files come from the tiny-qwen2 fixture
// (config vocab larger than the tokenizer, as in the real models).

import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { f32ToBf16 } from "../src/core/dtype.js";
import { alignedBytes, type Tensor } from "../src/core/tensor.js";
import { writeSafetensors } from "../src/formats/safetensors_write.js";
import { FIXTURES, ROOT } from "../test/fixtures.js";

interface DenseShape {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  inter: number;
  vocab: number;
  tie: boolean;
}

const SHAPES: Record<string, DenseShape> = {
  // deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B config.json
  "qwen2-1.5b-bf16": { hidden: 1536, layers: 28, heads: 12, kvHeads: 2, inter: 8960, vocab: 151936, tie: false },
};

/** xorshift32 + Box-Muller: fast, deterministic, good enough for weights nobody reads for meaning. */
function normalBf16(n: number, std: number, seed: number): Tensor["bytes"] {
  const bytes = alignedBytes(n * 2);
  const out = new Uint16Array(bytes.buffer, 0, n);
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next())) * std;
    const a = 2 * Math.PI * next();
    out[i] = f32ToBf16(r * Math.cos(a));
    if (i + 1 < n) out[i + 1] = f32ToBf16(r * Math.sin(a));
  }
  return bytes;
}

function ones(n: number): Tensor["bytes"] {
  const bytes = alignedBytes(n * 2);
  new Uint16Array(bytes.buffer, 0, n).fill(f32ToBf16(1));
  return bytes;
}

export function makeQwen2(shape: DenseShape, dir: string): void {
  const { hidden: H, layers, heads, kvHeads, inter, vocab } = shape;
  const hd = H / heads;
  const tensors: Record<string, Tensor> = {};
  let seed = 1;
  const w = (name: string, dims: number[], std = 0.02) => {
    tensors[name] = {
      dtype: "bf16",
      shape: dims,
      bytes: normalBf16(
        dims.reduce((a, b) => a * b, 1),
        std,
        seed++,
      ),
    };
  };
  const norm = (name: string) => {
    tensors[name] = { dtype: "bf16", shape: [H], bytes: ones(H) };
  };
  w("model.embed_tokens.weight", [vocab, H]);
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    norm(`${p}.input_layernorm.weight`);
    w(`${p}.self_attn.q_proj.weight`, [heads * hd, H]);
    w(`${p}.self_attn.q_proj.bias`, [heads * hd]);
    w(`${p}.self_attn.k_proj.weight`, [kvHeads * hd, H]);
    w(`${p}.self_attn.k_proj.bias`, [kvHeads * hd]);
    w(`${p}.self_attn.v_proj.weight`, [kvHeads * hd, H]);
    w(`${p}.self_attn.v_proj.bias`, [kvHeads * hd]);
    w(`${p}.self_attn.o_proj.weight`, [H, heads * hd]);
    norm(`${p}.post_attention_layernorm.weight`);
    w(`${p}.mlp.gate_proj.weight`, [inter, H]);
    w(`${p}.mlp.up_proj.weight`, [inter, H]);
    w(`${p}.mlp.down_proj.weight`, [H, inter]);
  }
  norm("model.norm.weight");
  if (!shape.tie) w("lm_head.weight", [vocab, H]);
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, "model.safetensors"), tensors, { format: "pt" });
  const config = {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    hidden_size: H,
    intermediate_size: inter,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    max_position_embeddings: 131072,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    tie_word_embeddings: shape.tie,
    torch_dtype: "bfloat16",
    vocab_size: vocab,
    bos_token_id: 151643,
    eos_token_id: 151643,
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2));
  for (const f of ["tokenizer.json", "tokenizer_config.json"])
    copyFileSync(join(FIXTURES, "tiny-qwen2", "hf", f), join(dir, f));
}

const [name = "qwen2-1.5b-bf16", out] = process.argv.slice(2);
const shape = SHAPES[name];
if (!shape) {
  console.error(`unknown shape "${name}" (known: ${Object.keys(SHAPES).join(", ")})`);
  process.exit(1);
}
const dir = resolve(out ?? join(ROOT, ".cache", "models", name));
if (existsSync(join(dir, "model.safetensors"))) console.log(`${dir} exists`);
else {
  const t0 = Date.now();
  makeQwen2(shape, dir);
  console.log(`wrote ${dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

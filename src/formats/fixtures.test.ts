// The shipped golden fixtures through both readers: hashes, layouts, every tensor's size, and agreement between
// each model's safetensors and GGUF copies (the GGUF holds the same weights dequantized to f32, so the two
// readers must produce identical numbers, which also pins down shape order and the [out, in] orientation).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { bf16ToF32, E4M3_LUT } from "../core/dtype.js";
import { byteSize, f32View, numel, outerSlice, type Tensor, u16View } from "../core/tensor.js";
import { openGGUF } from "./gguf.js";
import { openSafetensorsFolder } from "./safetensors.js";
import type { TensorSource } from "./source.js";
import { FIXTURES } from "./testkit.js";

const QWEN = path.join(FIXTURES, "tiny-qwen2");
const DSV3 = path.join(FIXTURES, "tiny-deepseek-v3");

function config(dir: string): Record<string, number> {
  return JSON.parse(fs.readFileSync(path.join(dir, "hf", "config.json"), "utf8"));
}

/** Loads every tensor and checks it has exactly the bytes its dtype and shape call for. */
function loadsAll(src: TensorSource): number {
  for (const name of src.names()) {
    const info = src.info(name);
    const t = src.load(name);
    assert.equal(t.bytes.length, byteSize(info.dtype, info.shape), name);
    assert.equal(info.size, t.bytes.length, name);
  }
  return src.names().length;
}

function bf16AsF32(t: Tensor): Float32Array {
  return Float32Array.from(u16View(t), bf16ToF32);
}

/** DeepSeek FP8 weight [out, in] times its per-128x128-block weight_scale_inv, in f32. */
function fp8AsF32(w: Tensor, scale: Tensor): Float32Array {
  const [rows, cols] = w.shape;
  const s = f32View(scale);
  const sCols = Math.ceil(cols / 128);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      out[r * cols + c] = E4M3_LUT[w.bytes[r * cols + c]] * s[Math.floor(r / 128) * sCols + Math.floor(c / 128)];
    }
  }
  return out;
}

describe("fixtures", () => {
  for (const dir of [QWEN, DSV3]) {
    it(`${path.basename(dir)} matches its SHA256SUMS`, () => {
      const lines = fs.readFileSync(path.join(dir, "SHA256SUMS"), "utf8").trim().split("\n");
      assert.ok(lines.length >= 6);
      for (const line of lines) {
        const [hash, rel] = line.split(/\s+/);
        const got = createHash("sha256")
          .update(fs.readFileSync(path.join(dir, rel)))
          .digest("hex");
        assert.equal(got, hash, rel);
      }
    });
  }

  it("tiny-qwen2 safetensors: one BF16 file in the Qwen2 layout", () => {
    const c = config(QWEN);
    const src = openSafetensorsFolder(path.join(QWEN, "hf"));
    try {
      assert.deepEqual(src.files, [path.join(QWEN, "hf", "model.safetensors")]);
      assert.equal(loadsAll(src), 3 + 12 * c.num_hidden_layers);
      for (const name of src.names()) assert.equal(src.info(name).dtype, "bf16", name);
      const hd = c.hidden_size / c.num_attention_heads;
      assert.deepEqual(src.info("model.embed_tokens.weight").shape, [c.vocab_size, c.hidden_size]);
      assert.deepEqual(src.info("lm_head.weight").shape, [c.vocab_size, c.hidden_size]);
      assert.deepEqual(src.info("model.layers.1.self_attn.k_proj.weight").shape, [
        c.num_key_value_heads * hd,
        c.hidden_size,
      ]);
      assert.deepEqual(src.info("model.layers.1.self_attn.k_proj.bias").shape, [c.num_key_value_heads * hd]);
      assert.deepEqual(src.info("model.layers.0.mlp.down_proj.weight").shape, [c.hidden_size, c.intermediate_size]);
    } finally {
      src.close();
    }
  });

  it("tiny-deepseek-v3 safetensors: two shards, FP8 Linears with block scales, BF16 norms", () => {
    const c = config(DSV3);
    const dir = path.join(DSV3, "hf");
    const src = openSafetensorsFolder(dir);
    try {
      assert.deepEqual(src.files, [
        path.join(dir, "model-00001-of-00002.safetensors"),
        path.join(dir, "model-00002-of-00002.safetensors"),
      ]);
      const index = JSON.parse(fs.readFileSync(path.join(dir, "model.safetensors.index.json"), "utf8"));
      assert.deepEqual(src.names().sort(), Object.keys(index.weight_map).sort());
      let total = 0;
      for (const name of src.names()) total += src.info(name).size;
      assert.equal(total, index.metadata.total_size);
      assert.equal(loadsAll(src), Object.keys(index.weight_map).length);

      let fp8 = 0;
      for (const name of src.names()) {
        const info = src.info(name);
        if (info.dtype === "f8_e4m3") {
          fp8++;
          const scale = src.info(`${name}_scale_inv`);
          assert.equal(scale.dtype, "f32");
          assert.deepEqual(scale.shape, [Math.ceil(info.shape[0] / 128), Math.ceil(info.shape[1] / 128)], name);
        } else if (name.endsWith("norm.weight") || name.endsWith("embed_tokens.weight") || name === "lm_head.weight") {
          assert.equal(info.dtype, "bf16", name);
        }
      }
      // Per layer: q_a, q_b, kv_a, kv_b, o, plus 3 MLP projections per expert (8 routed + 1 shared) or 3 dense.
      assert.equal(fp8, 5 * c.num_hidden_layers + 3 + 3 * 9 * (c.num_hidden_layers - 1));
      assert.equal(src.info("model.layers.2.mlp.gate.e_score_correction_bias").dtype, "f32");
      assert.equal(src.info("model.layers.2.mlp.gate.weight").dtype, "bf16");
    } finally {
      src.close();
    }
  });

  for (const [dir, arch, count] of [
    [QWEN, "qwen2", 27],
    [DSV3, "deepseek2", 52],
  ] as const) {
    it(`${path.basename(dir)} GGUF: metadata and every F32 tensor`, () => {
      const g = openGGUF(path.join(dir, "model-f32.gguf"), { strict: true });
      try {
        assert.equal(g.version, 3);
        assert.equal(g.metadata["general.architecture"], arch);
        const tokens = g.metadata["tokenizer.ggml.tokens"];
        assert.ok(Array.isArray(tokens) && tokens.every((t) => typeof t === "string"));
        assert.equal(tokens.length, config(dir).vocab_size);
        assert.equal(g.metadata[`${arch}.block_count`], config(dir).num_hidden_layers);
        assert.equal(loadsAll(g), count);
        for (const name of g.names()) {
          const info = g.info(name);
          assert.equal(info.dtype, "f32", name);
          assert.equal(info.size, numel(info.shape) * 4, name);
        }
        assert.deepEqual(g.info("token_embd.weight").shape, [config(dir).vocab_size, config(dir).hidden_size]);
      } finally {
        g.close();
      }
    });
  }

  it("tiny-qwen2: GGUF and safetensors hold the same numbers", () => {
    const g = openGGUF(path.join(QWEN, "model-f32.gguf"));
    const s = openSafetensorsFolder(path.join(QWEN, "hf"));
    try {
      for (const [gn, sn] of [
        ["token_embd.weight", "model.embed_tokens.weight"],
        ["output.weight", "lm_head.weight"],
        ["blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight"],
        ["blk.1.attn_k.bias", "model.layers.1.self_attn.k_proj.bias"],
        ["blk.1.ffn_down.weight", "model.layers.1.mlp.down_proj.weight"],
      ]) {
        assert.deepEqual(g.info(gn).shape, s.info(sn).shape, gn);
        assert.deepEqual(f32View(g.load(gn)), bf16AsF32(s.load(sn)), gn);
      }
    } finally {
      g.close();
      s.close();
    }
  });

  it("tiny-deepseek-v3: GGUF f32 equals the FP8 weights times their block scales", () => {
    const g = openGGUF(path.join(DSV3, "model-f32.gguf"));
    const s = openSafetensorsFolder(path.join(DSV3, "hf"));
    const fp8 = (name: string) => fp8AsF32(s.load(name), s.load(`${name}_scale_inv`));
    try {
      assert.deepEqual(f32View(g.load("token_embd.weight")), bf16AsF32(s.load("model.embed_tokens.weight")));
      assert.deepEqual(f32View(g.load("blk.1.attn_q_a.weight")), fp8("model.layers.1.self_attn.q_a_proj.weight"));
      // Stacked experts [E, out, in]: expert 5's slice is that expert's own gate_proj.
      const stacked = g.load("blk.2.ffn_gate_exps.weight");
      assert.deepEqual(stacked.shape, [8, 96, 320]);
      assert.deepEqual(f32View(outerSlice(stacked, 5)), fp8("model.layers.2.mlp.experts.5.gate_proj.weight"));
      assert.deepEqual(
        f32View(g.load("blk.2.exp_probs_b.bias")),
        f32View(s.load("model.layers.2.mlp.gate.e_score_correction_bias")),
      );
    } finally {
      g.close();
      s.close();
    }
  });
});

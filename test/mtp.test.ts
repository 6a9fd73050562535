// Real DeepSeek-V3/R1 checkpoints carry a multi-token-prediction module as layer index num_hidden_layers.
// The loader keeps it on disk and out of the forward pass, says so, and generates exactly as without it.

import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { f32ToBf16 } from "../src/core/dtype.js";
import { alignedBytes, type Tensor } from "../src/core/tensor.js";
import { writeSafetensors } from "../src/formats/safetensors_write.js";
import { loadModel } from "../src/models/load.js";
import { FIXTURES, tempDir } from "./fixtures.js";

function bf16(shape: number[], v: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = alignedBytes(n * 2);
  new Uint16Array(bytes.buffer, 0, n).fill(f32ToBf16(v));
  return { dtype: "bf16", shape, bytes };
}

test("an MTP layer is kept aside with a note, and the output is unchanged", () => {
  const src = join(FIXTURES, "tiny-deepseek-v3", "hf");
  const dir = tempDir("r1-mtp-");
  for (const f of [
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
  ])
    copyFileSync(join(src, f), join(dir, f));
  const cfg = JSON.parse(readFileSync(join(src, "config.json"), "utf8"));
  cfg.num_nextn_predict_layers = 1;
  writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
  const H = cfg.hidden_size;
  const mtp: Record<string, Tensor> = {
    "model.layers.3.eh_proj.weight": bf16([H, 2 * H], 0.01),
    "model.layers.3.enorm.weight": bf16([H], 1),
    "model.layers.3.hnorm.weight": bf16([H], 1),
    "model.layers.3.shared_head.norm.weight": bf16([H], 1),
    "model.layers.3.input_layernorm.weight": bf16([H], 1),
  };
  writeSafetensors(join(dir, "model-mtp.safetensors"), mtp);
  const index = JSON.parse(readFileSync(join(src, "model.safetensors.index.json"), "utf8"));
  for (const n of Object.keys(mtp)) index.weight_map[n] = "model-mtp.safetensors";
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify(index));

  const plain = loadModel(src).model;
  const { model, ckpt } = loadModel(dir);
  assert.ok(
    ckpt.notes.some((n) => /multi-token-prediction/.test(n)),
    ckpt.notes.join("; "),
  );
  assert.ok(![...ckpt.store.used].some((n) => n.startsWith("blk.3.")), "MTP tensors never read");
  const a = plain.forward([0, 5, 9, 100], plain.newCache(16));
  const b = model.forward([0, 5, 9, 100], model.newCache(16));
  assert.deepEqual(b, a);
  assert.equal(model.params().total, plain.params().total);
});

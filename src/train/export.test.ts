// The exported Hugging Face folder, loaded by the runtime as `r1 run` loads a real checkpoint, gives the trainer's
// logits (on the weights the folder decodes to) for every routing shape the trainer can build. Top-1 routing
// once disagreed: the trainer normalized the single gate weight to 1 and the runtime kept the bare sigmoid
// score (max |Δlogit| 3.8 on a trained student).

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promptText, scratchpad } from "./data/arith.js";
import { encode, VOCAB } from "./data/vocab.js";
import { parity } from "./evaluate.js";
import { exportedWeights, exportHf, importHf } from "./export.js";
import { TinyV3 } from "./model.js";
import { microConfig } from "./trainer.js";

/** Exports m, loads the folder with the runtime, and checks its logits against the trainer's; returns config.json. */
function assertParity(m: TinyV3): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "r1ts-export-"));
  try {
    exportHf(m, dir, { recipe: "test", steps: "0" });
    const ids = encode(`${promptText("47", "85")}${scratchpad("47", "85")}`);
    const p = parity(m, dir, ids);
    assert.ok(p.maxAbsDiff < 1e-4 * Math.max(1, p.maxAbsLogit), `max |Δlogit| ${p.maxAbsDiff} of ${p.maxAbsLogit}`);
    assert.equal(p.argmaxAgree, 1);
    return JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const [nRoutedExperts, topK] of [
  [4, 2],
  [2, 1],
  [4, 1],
]) {
  test(`export parity: ${nRoutedExperts} routed experts, top-${topK}`, () => {
    const m = new TinyV3({ ...microConfig(VOCAB.length), nRoutedExperts, topK, firstKDense: 1 }, 5);
    // Shrink the router so the chosen score sits near 0.5, far from the normalized top-1 weight of 1.
    for (const [n, p] of m.params)
      if (n.endsWith("mlp.gate.weight")) for (let i = 0; i < p.data.length; i++) p.data[i] *= 0.3;
    assertParity(m);
  });
}

// DeepSeek-V2-Lite has no query LoRA (q_lora_rank null): one q_proj, which the runtime loads as attn_q.
test("export parity: no query LoRA (q_lora_rank null, V2-Lite attention)", () => {
  const m = new TinyV3({ ...microConfig(VOCAB.length), qLoraRank: 0, firstKDense: 1 }, 7);
  assert.ok(m.params.has("model.layers.0.self_attn.q_proj.weight"));
  assert.ok(!m.params.has("model.layers.0.self_attn.q_a_proj.weight"));
  // Larger weights than the init's, so attention moves the logits: agreement is ~1e-7 of 0.79, and adding 0.05 to
  // every 7th query element in the runtime shows up as 6e-4.
  for (const [n, p] of m.params) if (!n.includes("norm")) for (let i = 0; i < p.data.length; i++) p.data[i] *= 4;
  assert.equal(assertParity(m).q_lora_rank, null);
});

test("importHf reads back exactly the weights the folder decodes to, routing biases included", () => {
  const cfg = { ...microConfig(VOCAB.length), firstKDense: 1 };
  const m = new TinyV3(cfg, 6);
  for (const st of m.moe) if (st) st.bias.set(Array.from(st.bias, (_, i) => 0.01 * (i + 1)));
  const dir = mkdtempSync(join(tmpdir(), "r1ts-import-"));
  try {
    exportHf(m, dir);
    const back = new TinyV3(cfg, 99);
    importHf(dir, back);
    for (const [n, w] of exportedWeights(m)) assert.deepEqual(back.p(n).data, w, n);
    for (const [l, st] of m.moe.entries()) if (st) assert.deepEqual(back.moe[l]!.bias, st.bias, `layer ${l} bias`);
    assert.throws(() => importHf(dir, new TinyV3({ ...cfg, hidden: 12 }, 1)), /has shape/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

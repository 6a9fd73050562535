// The golden model tests (test/golden.test.ts: llama.cpp's greedy tokens and logprobs on tiny checkpoints) on
// the WASM backend, with 2 threads, from both the HF folder and the GGUF file. Same tolerances as the reference.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { logSoftmax } from "../src/generate/sampling.js";
import { wasmKernels } from "../src/kernels/wasm.js";
import { loadModel } from "../src/models/load.js";
import type { CausalLM } from "../src/models/model.js";
import { FIXTURES, type Golden } from "./fixtures.js";

const TOP5_TOL = 1e-4;
const FULL_TOL = 1e-3;
const TIE_GAP = 1e-2;

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

function checkTop5(lp: Float64Array, top5: [number, number][], what: string): void {
  for (const [id, want] of top5) {
    const d = Math.abs(lp[id] - want);
    assert.ok(d <= TOP5_TOL, `${what}: token ${id} logprob ${lp[id]} vs golden ${want} (|Δ| ${d.toExponential(2)})`);
  }
}

function runGolden(model: CausalLM, golden: Golden, label: string): void {
  for (const p of golden.prompts) {
    test(`${label}: ${p.name}`, () => {
      const vocab = model.config.vocabSize;
      const cache = model.newCache(256);
      const all = model.forward(p.tokens, cache, true);
      for (let i = 0; i < p.n_prompt; i++)
        checkTop5(logSoftmax(all.subarray(i * vocab, (i + 1) * vocab)), p.prompt_top5[i], `${p.name} prompt ${i}`);
      let logits = all.subarray((p.n_prompt - 1) * vocab);
      const first = logSoftmax(logits);
      const gold = logSoftmax(Float32Array.from(p.first_step_logits));
      let maxFull = 0;
      for (let v = 0; v < vocab; v++) maxFull = Math.max(maxFull, Math.abs(first[v] - gold[v]));
      assert.ok(maxFull <= FULL_TOL, `${p.name}: first-step full-vocab max |Δlogprob| ${maxFull}`);
      for (let s = 0; s < p.steps.length; s++) {
        const step = p.steps[s];
        checkTop5(logSoftmax(logits), step.top5, `${p.name} step ${s}`);
        if (step.top5[0][1] - step.top5[1][1] >= TIE_GAP)
          assert.equal(argmax(logits), step.token, `${p.name} step ${s}`);
        if (s + 1 < p.steps.length) logits = model.forward([p.generated[s]], cache);
      }
    });
  }
}

const kernels = wasmKernels({ threads: 2, scratchBytes: 32 << 20 });
after(() => kernels.close());

for (const fixture of ["tiny-qwen2", "tiny-deepseek-v3"]) {
  const dir = join(FIXTURES, fixture);
  const golden = JSON.parse(readFileSync(join(dir, "golden.json"), "utf8")) as Golden;
  describe(`golden ${fixture} on ${kernels.name}`, () => {
    runGolden(loadModel(join(dir, "hf"), { kernels }).model, golden, `${fixture} safetensors`);
    runGolden(loadModel(join(dir, "model-f32.gguf"), { kernels }).model, golden, `${fixture} gguf`);
  });
}

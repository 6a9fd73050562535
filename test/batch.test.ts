// forwardBatch must equal forward run sequence by sequence: the batched rows share matmuls but each
// sequence attends only to its own cache. Checked on both architectures, mixing a prefill with decode steps.

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { loadModel } from "../src/models/load.js";
import { FIXTURES } from "./fixtures.js";

for (const fixture of ["tiny-qwen2", "tiny-deepseek-v3"]) {
  test(`${fixture}: a batch equals its sequences run alone`, () => {
    const { model } = loadModel(join(FIXTURES, fixture, "hf"));
    const a = [0, 5, 17, 300, 42];
    const b = [0, 900, 12];
    const alone = (toks: number[], next: number[]) => {
      const c = model.newCache(32);
      model.forward(toks, c);
      return model.forward(next, c);
    };
    const wantA = alone(a, [7]);
    const wantB = alone(b, [8, 9]);
    // Step 1: both prompts prefilled in one batch; step 2: one decode token for A beside two tokens for B.
    const ca = model.newCache(32);
    const cb = model.newCache(32);
    model.forwardBatch([
      { tokens: a, cache: ca },
      { tokens: b, cache: cb },
    ]);
    const [gotA, gotB] = model.forwardBatch([
      { tokens: [7], cache: ca },
      { tokens: [8, 9], cache: cb },
    ]);
    assert.equal(ca.pos, a.length + 1);
    assert.equal(cb.pos, b.length + 2);
    for (const [got, want, name] of [
      [gotA, wantA, "A"],
      [gotB, wantB, "B"],
    ] as const) {
      let max = 0;
      for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
      assert.ok(max < 1e-4, `sequence ${name}: max |Δlogit| ${max}`);
    }
  });
}

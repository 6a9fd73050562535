// Auxiliary-loss-free balancing: the per-expert bias moves by gamma against each expert's load, MaxVio is
// max / mean - 1, and the window accumulator sums loads across steps (the trainer's low-noise MaxVio).

import assert from "node:assert/strict";
import { test } from "node:test";
import { maxVio, TinyV3, updateBias } from "./model.js";
import { defaultRecipe } from "./trainer.js";

function tinyModel(): TinyV3 {
  const r = defaultRecipe({});
  return new TinyV3({ ...r.model, nLayers: 3, firstKDense: 1, nRoutedExperts: 4 }, 1);
}

test("maxVio is max/mean - 1: 0 when even, E - 1 when one expert takes everything", () => {
  assert.equal(maxVio([5, 5, 5, 5]), 0);
  assert.equal(maxVio([8, 0, 0, 0]), 3);
  assert.ok(Math.abs(maxVio([3, 1, 2, 2]) - 0.5) < 1e-12);
  assert.equal(maxVio([0, 0]), 0);
});

test("updateBias: overloaded experts go down by gamma, underloaded up; loads reset; window sums", () => {
  const m = tinyModel();
  const layers = m.moe.filter((s) => s !== null);
  assert.equal(layers.length, 2);
  layers[0]!.load.set([6, 2, 2, 2]);
  layers[1]!.load.set([3, 3, 3, 3]);
  const window: Float64Array[] = [];
  const vio = updateBias(m, 0.01, window);
  assert.ok(Math.abs(vio - (6 / 3 - 1 + 0) / 2) < 1e-12);
  assert.deepEqual(Array.from(layers[0]!.bias), [-0.01, 0.01, 0.01, 0.01].map(Math.fround));
  assert.deepEqual(Array.from(layers[1]!.bias), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(layers[0]!.load), [0, 0, 0, 0]);
  layers[0]!.load.set([0, 4, 4, 4]);
  layers[1]!.load.set([1, 1, 1, 1]);
  updateBias(m, 0, window);
  assert.deepEqual(Array.from(window[0]), [6, 6, 6, 6], "two unbalanced steps that cancel out");
  assert.equal(maxVio(window[0]), 0);
  assert.deepEqual(Array.from(window[1]), [4, 4, 4, 4]);
  assert.deepEqual(Array.from(layers[0]!.bias), [-0.01, 0.01, 0.01, 0.01].map(Math.fround), "gamma 0 leaves it");
});

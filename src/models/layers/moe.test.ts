// DeepSeek-V3 routing on hand-made numbers, each case built so that dropping one rule changes the answer.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { DeepseekV3Config } from "../config.js";
import { route } from "./moe.js";

const base = {
  nRoutedExperts: 8,
  topK: 2,
  nGroup: 4,
  topkGroup: 2,
  normTopkProb: true,
  routedScalingFactor: 2.5,
  scoring: "sigmoid",
} as DeepseekV3Config;

const sig = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));

test("sigmoid scores; bias picks the experts but the weights use unbiased scores, normalized then scaled", () => {
  // Groups {0,1} {2,3} {4,5} {6,7}. Without bias experts 0 and 2 win; the bias promotes 5 over 2.
  const p = [0.9, 0.1, 0.8, 0.1, 0.1, 0.7, 0.1, 0.1];
  const bias = new Float32Array([0, 0, 0, 0, 0, 0.3, 0, 0]);
  const r = route({ ...base, topkGroup: 4 }, p.map(logit), bias);
  assert.deepEqual([...r.experts], [5, 0]);
  const w = [0.7, 0.9].map((x) => (x / 1.6) * 2.5);
  for (let i = 0; i < w.length; i++)
    assert.ok(Math.abs(r.weights[i] - w[i]) < 1e-9, `weight ${i}: ${r.weights[i]} vs ${w[i]}`);
  const plain = route({ ...base, topkGroup: 4 }, p.map(logit));
  assert.deepEqual([...plain.experts], [0, 2]);
});

test("top-1 with norm_topk_prob: the weight is normalized to 1, then scaled (DeepSeek's Gate, llama.cpp)", () => {
  const p = [0.2, 0.6, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1];
  const r = route({ ...base, topK: 1, nGroup: 1, topkGroup: 1 }, p.map(logit));
  assert.deepEqual([...r.experts], [1]);
  assert.ok(Math.abs(r.weights[0] - 2.5) < 1e-9, `weight ${r.weights[0]}`);
  const bare = route({ ...base, topK: 1, nGroup: 1, topkGroup: 1, normTopkProb: false }, p.map(logit));
  assert.ok(Math.abs(bare.weights[0] - 0.6 * 2.5) < 1e-9, `weight ${bare.weights[0]}`);
});

test("group-limited: the best expert of a group outside the top groups is never chosen", () => {
  // Group scores with bias (sum of top-2): g0 = .6+.6, g1 = .95+.05, g2 = .55+.55, g3 = .1+.1.
  // topk_group 2 keeps g0 and g2, so expert 2 (0.95, the best single score) is excluded.
  const p = [0.6, 0.6, 0.95, 0.05, 0.55, 0.55, 0.1, 0.1];
  const bias = new Float32Array(8);
  const r = route(base, p.map(logit), bias);
  assert.deepEqual([...r.experts], [0, 1]);
  // Without a bias (V2 style) the group score is the max: g1 (0.95) and g0 (0.6) are kept, expert 2 wins.
  const v2 = route(base, p.map(logit));
  assert.deepEqual([...v2.experts], [2, 0]);
  assert.ok(Math.abs(r.weights[0] - 0.5 * 2.5) < 1e-9);
});

test("softmax scoring without normalization (DeepSeek-V2)", () => {
  const logits = [2, 1, 0, 0, 3, 0, 0, 0];
  const r = route(
    { ...base, scoring: "softmax", normTopkProb: false, nGroup: 1, topkGroup: 1, routedScalingFactor: 1 },
    logits,
  );
  const z = logits.reduce((a, x) => a + Math.exp(x), 0);
  assert.deepEqual([...r.experts], [4, 0]);
  assert.ok(Math.abs(r.weights[0] - Math.exp(3) / z) < 1e-12);
  assert.ok(Math.abs(r.weights[1] - Math.exp(2) / z) < 1e-12);
  assert.ok(Math.abs(sig(0) - 0.5) < 1e-12);
});

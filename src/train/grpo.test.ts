// GRPO pieces: group-normalised advantages, the rule reward on hand-written completions, the update's gradient
// against finite differences of the GRPO objective itself (policy term + k3 KL, mu = 1), one step moving
// log-probs the way the advantages say, and one whole sample-score-update step through the runtime.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Tape } from "./autograd.js";
import { saveCheckpoint } from "./checkpoint.js";
import { toBatch } from "./data/arith.js";
import {
  defaultGrpoRecipe,
  formatOk,
  groupAdvantages,
  grpoStep,
  grpoUpdate,
  newGrpoState,
  type Rollout,
  scoreText,
  targetLogProbs,
} from "./grpo.js";
import { TinyV3, updateBias } from "./model.js";
import { AdamW } from "./optim.js";
import { Rng } from "./rng.js";
import { microConfig } from "./trainer.js";

/** A tiny model with weights large enough that its distributions are far from uniform. */
function noisyModel(seed: number, V = 12): TinyV3 {
  const m = new TinyV3(microConfig(V), seed);
  const rng = new Rng(seed * 31);
  for (const p of m.params.values()) for (let i = 0; i < p.data.length; i++) p.data[i] += rng.normal() * 0.3;
  return m;
}

const adam = (m: TinyV3, lr: number) =>
  new AdamW([...m.params.values()], { lr, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0 });

const rollouts: Rollout[] = [
  { prompt: [0, 3, 4], completion: [5, 7, 2, 1], text: "", stopped: true },
  { prompt: [0, 3, 4], completion: [9, 8, 1], text: "", stopped: true },
  { prompt: [0, 3, 4], completion: [6, 6, 6, 6, 10], text: "", stopped: false },
];

/** Per-rollout mean and per-token log-probs of the rollouts' completions under `m` (no grad). */
function logps(m: TinyV3, ro: Rollout[]): { lp: Float64Array; mean: number[]; mask: Float32Array; T: number } {
  const b = toBatch(ro.map((r) => ({ ids: [...r.prompt, ...r.completion], promptLen: r.prompt.length })));
  const lp = targetLogProbs(m.forward(new Tape(false), b.ids, b.B, b.T).logits.data, b.targets, b.mask, 12);
  updateBias(m, 0);
  const mean = ro.map((r, i) => lp.slice(i * b.T, (i + 1) * b.T).reduce((a, v) => a + v, 0) / r.completion.length);
  return { lp, mean, mask: b.mask, T: b.T };
}

test("advantages are group-normalised and zero for uniform groups", () => {
  const A = groupAdvantages([1, 0, 0, 0, 0.1, 0.1, 0.1, 0.1, 1.1, 0.1, 1.1, 0], 4);
  const s = Math.sqrt(0.1875);
  assert.ok(Math.abs(A[0] - 0.75 / (s + 1e-4)) < 1e-9);
  assert.ok(Math.abs(A[1] + 0.25 / (s + 1e-4)) < 1e-9);
  assert.deepEqual([...A.slice(4, 8)], [0, 0, 0, 0]);
  for (let g = 0; g < 12; g += 4) assert.ok(Math.abs(A.slice(g, g + 4).reduce((a, v) => a + v, 0)) < 1e-9);
  assert.ok(A[8] > A[9] && A[9] > A[11] && A[8] === A[10]);
});

test("rule reward: accuracy 1 plus format bonus, on hand-written completions", () => {
  const think = "__3+5 ...\n8_+0\n";
  assert.deepEqual(scoreText(`${think}</think>\n\n8`, true, "8", 0.1), { reward: 1.1, correct: true, formatted: true });
  // Cut off by the token cap: still correct, but not well-formed.
  assert.deepEqual(scoreText(`${think}</think>\n\n8`, false, "8", 0.1), { reward: 1, correct: true, formatted: false });
  assert.equal(scoreText(`${think}</think>\n\n9`, true, "8", 0.1).reward, 0.1);
  assert.equal(scoreText(`${think}</think>\n\n8 apples`, true, "8", 0.2).reward, 1);
  assert.equal(formatOk("</think>\n\n8</think>\n\n8", true), false);
  assert.equal(formatOk("</think>\n8", true), false);
  assert.equal(formatOk("8", true), false);
  assert.equal(formatOk("</think>\n\n-12", true), true);
  assert.equal(scoreText("no think block 8", true, "8", 0.1).reward, 1);
});

test("update gradient = finite differences of the GRPO objective (policy term + k3 KL)", () => {
  const m = noisyModel(3);
  const ref = noisyModel(4);
  const A = [1.3, -0.4, 0.6];
  const beta = 0.7;
  const old = logps(m, rollouts);
  // J(theta) = sum_i 1/|o_i| sum_t [-rho_t A_i + beta k3_t], rho = pi_theta / pi_old (old fixed), ref fixed.
  const refLp = logps(ref, rollouts).lp;
  const J = () => {
    const { lp } = logps(m, rollouts);
    let j = 0;
    rollouts.forEach((r, i) => {
      for (let t = i * old.T; t < (i + 1) * old.T; t++) {
        if (old.mask[t] === 0) continue;
        const d = refLp[t] - lp[t];
        j += (-Math.exp(lp[t] - old.lp[t]) * A[i] + beta * (Math.exp(d) - d - 1)) / r.completion.length;
      }
    });
    return j;
  };
  // lr 0 and no clipping: the step leaves the weights alone and the gradient in p.grad.
  grpoUpdate(m, adam(m, 0), ref, rollouts, A, { beta, clipEps: 0.2, lr: 0, clip: 1e9, denom: 1 });
  const rng = new Rng(11);
  let checked = 0;
  for (const name of [
    "model.layers.0.self_attn.q_b_proj.weight",
    "model.layers.1.mlp.shared_experts.up_proj.weight",
    "lm_head.weight",
    "model.embed_tokens.weight",
  ]) {
    const p = m.p(name);
    const g = Float32Array.from(p.grad!);
    for (let k = 0; k < 6; k++) {
      const i = rng.int(0, p.data.length - 1);
      const x = p.data[i];
      const eps = 3e-3;
      p.data[i] = x + eps;
      const up = J();
      p.data[i] = x - eps;
      const dn = J();
      p.data[i] = x;
      const num = (up - dn) / (2 * eps);
      assert.ok(Math.abs(g[i] - num) <= 3e-2 * Math.max(0.1, Math.abs(num)), `${name}[${i}]: ${g[i]} vs ${num}`);
      if (Math.abs(num) > 1e-3) checked++;
    }
  }
  assert.ok(checked >= 8, `only ${checked} non-trivial gradient entries`);
});

test("one GRPO step raises the positively-advantaged completion and lowers the negative one", () => {
  const m = noisyModel(5);
  const ref = noisyModel(5);
  const before = logps(m, rollouts).mean;
  const A = groupAdvantages([1.1, 0.1, 0], 3);
  grpoUpdate(m, adam(m, 1e-2), ref, rollouts, A, { beta: 0.04, clipEps: 0.2, lr: 1e-2, clip: 1 });
  const after = logps(m, rollouts).mean;
  assert.ok(after[0] > before[0] + 1e-3, `A>0: ${before[0]} -> ${after[0]}`);
  assert.ok(after[2] < before[2] - 1e-3, `A<0: ${before[2]} -> ${after[2]}`);
  // With no advantage at all, only the KL term acts: it pulls the policy back toward the reference.
  const kl0 = grpoUpdate(m, adam(m, 0), ref, rollouts, [0, 0, 0], { beta: 1, clipEps: 0.2, lr: 0, clip: 1 }).kl;
  const opt = adam(m, 3e-3);
  for (let i = 0; i < 3; i++)
    grpoUpdate(m, opt, ref, rollouts, [0, 0, 0], { beta: 1, clipEps: 0.2, lr: 3e-3, clip: 1 });
  const kl1 = grpoUpdate(m, adam(m, 0), ref, rollouts, [0, 0, 0], { beta: 1, clipEps: 0.2, lr: 0, clip: 1 }).kl;
  assert.ok(kl0 > 0 && kl1 < kl0, `KL ${kl0} -> ${kl1}`);
});

test("a whole GRPO step: sample through the FP8 export, score, update", async () => {
  const dir = mkdtempSync(join(tmpdir(), "r1-grpo-test-"));
  try {
    const m = noisyModel(6, 102);
    const init = join(dir, "init.bin");
    saveCheckpoint(init, m, adam(m, 0), { step: 0, history: [] });
    const r = defaultGrpoRecipe({ init, prompts: 2, group: 3, maxTokens: 5, skipFlatGroups: false, lr: 1e-2 });
    const st = newGrpoState(r, microConfig(102));
    const w0 = Float32Array.from(st.model.p("lm_head.weight").data);
    const e = await grpoStep(st, r, 0, join(dir, "sampler"));
    assert.equal(e.step, 1);
    assert.ok(e.length >= 1 && e.length <= 6, `length ${e.length}`);
    assert.ok(e.reward >= 0 && e.reward <= 1.1 && e.accuracy >= 0 && e.format >= 0);
    // Random model: every reward is (almost surely) 0, so the groups are flat and only KL acts; at the start
    // policy = reference, so KL and its gradient are 0 and Adam leaves the weights where they were.
    assert.equal(e.kl, 0);
    assert.deepEqual(st.model.p("lm_head.weight").data, w0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Every autograd op's gradient against central finite differences: loss = sum(out * r) for a fixed random r,
// perturb sampled input entries by ±eps, compare with the tape's gradient. f32 storage limits the agreement,
// so the tolerance is |analytic - numeric| <= 2e-2 * max(1, |numeric|) with eps = 1e-2 on O(1) inputs.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  add,
  crossEntropy,
  embedding,
  gateWeights,
  gatherRows,
  linear,
  mlaAttention,
  Param,
  rmsnorm,
  rope,
  scatterAddScaled,
  sliceCols,
  swiglu,
  Tape,
  Var,
} from "./autograd.js";
import { seqBalanceLoss, TinyV3 } from "./model.js";
import { Rng } from "./rng.js";
import { microConfig } from "./trainer.js";

const rng = new Rng(7);
const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => rng.normal() * s);

/** Scalar sum(out * r) with r drawn once per check (so the loss is a generic linear functional of out). */
function weighted(tape: Tape, out: Var, r: Float32Array): Var {
  const y = new Var(new Float32Array([out.data.reduce((a, v, i) => a + v * r[i], 0)]));
  tape.push(() => {
    if (!y.grad) return;
    const g = out.g();
    for (let i = 0; i < g.length; i++) g[i] += y.grad[0] * r[i];
  });
  return y;
}

function gradcheck(name: string, inputs: Var[], f: (tape: Tape) => Var, eps = 1e-2, tol = 2e-2): void {
  let r: Float32Array | undefined;
  const loss = (tape: Tape) => {
    const out = f(tape);
    if (out.data.length === 1) return out;
    r ??= rand(out.data.length);
    return weighted(tape, out, r);
  };
  for (const v of inputs) v.grad = null;
  const tape = new Tape();
  tape.backward(loss(tape));
  for (const [vi, v] of inputs.entries()) {
    const g = v.g();
    const idx = Array.from({ length: Math.min(12, v.data.length) }, () => rng.int(0, v.data.length - 1));
    for (const i of idx) {
      const x = v.data[i];
      v.data[i] = x + eps;
      const up = loss(new Tape(false)).data[0];
      v.data[i] = x - eps;
      const dn = loss(new Tape(false)).data[0];
      v.data[i] = x;
      const num = (up - dn) / (2 * eps);
      assert.ok(
        Math.abs(num - g[i]) <= tol * Math.max(1, Math.abs(num)),
        `${name}: input ${vi}[${i}] analytic ${g[i]} vs numeric ${num}`,
      );
    }
  }
}

const P = (name: string, shape: number[], s = 1) =>
  new Param(
    name,
    shape,
    rand(
      shape.reduce((a, b) => a * b),
      s,
    ),
  );

test("linear: input and weight gradients", () => {
  const x = new Var(rand(3 * 5));
  const w = P("w", [4, 5]);
  gradcheck("linear", [x, w], (t) => linear(t, x, w, 3));
});

test("embedding, add, sliceCols, swiglu", () => {
  const E = P("E", [6, 4]);
  const ids = Int32Array.from([1, 3, 1, 5]);
  gradcheck("embedding", [E], (t) => embedding(t, E, ids));
  const a = new Var(rand(12));
  const b = new Var(rand(12));
  gradcheck("add", [a, b], (t) => add(t, a, b));
  gradcheck("sliceCols", [a], (t) => sliceCols(t, a, 3, 4, 1, 2));
  gradcheck("swiglu", [a, b], (t) => swiglu(t, a, b));
});

test("rmsnorm: input and gain", () => {
  const x = new Var(rand(3 * 6));
  const g = P("g", [6]);
  gradcheck("rmsnorm", [x, g], (t) => rmsnorm(t, x, g, 3, 6, 1e-6));
});

test("rope (interleaved pairs on a sub-range of each head)", () => {
  const N = 3;
  const x = new Var(rand(N * 2 * 6));
  const cos = new Float32Array(N * 2);
  const sin = new Float32Array(N * 2);
  for (let i = 0; i < cos.length; i++) {
    cos[i] = Math.cos(i * 0.7);
    sin[i] = Math.sin(i * 0.7);
  }
  gradcheck("rope", [x], (t) => rope(t, x, N, 2, 6, 2, 4, cos, sin));
});

test("MLA attention: q, k_nope, shared k_pe, v", () => {
  const [B, T, H, nope, rd, V] = [2, 4, 2, 3, 2, 3];
  const q = new Var(rand(B * T * H * (nope + rd)));
  const kn = new Var(rand(B * T * H * nope));
  const kp = new Var(rand(B * T * rd));
  const v = new Var(rand(B * T * H * V));
  gradcheck("mlaAttention", [q, kn, kp, v], (t) => mlaAttention(t, q, kn, kp, v, B, T, H, nope, rd, V, 0.5));
});

test("cross-entropy with a mask", () => {
  const logits = new Var(rand(4 * 5));
  const targets = Int32Array.from([0, 3, 2, 4]);
  const mask = Float32Array.from([1, 0, 1, 1]);
  gradcheck("crossEntropy", [logits], (t) => crossEntropy(t, logits, targets, mask, 5));
  // Signed weights and a fixed denominator (GRPO's surrogate): the weight total here is 0, which the mean form
  // would treat as an empty batch.
  const signed = Float32Array.from([0.7, 0, -0.4, -0.3]);
  gradcheck("crossEntropy(signed, denom)", [logits], (t) => crossEntropy(t, logits, targets, signed, 5, 2.5));
  const l = crossEntropy(new Tape(false), logits, targets, signed, 5, 2.5).data[0];
  const nll = (n: number) => {
    const row = Array.from(logits.data.subarray(n * 5, n * 5 + 5));
    const m = Math.max(...row);
    return m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) - row[targets[n]];
  };
  assert.ok(Math.abs(l - (0.7 * nll(0) - 0.4 * nll(2) - 0.3 * nll(3)) / 2.5) < 1e-5);
});

test("MoE dispatch/combine and gate weights", () => {
  const x = new Var(rand(4 * 3));
  const idx = Int32Array.from([2, 0, 2]);
  gradcheck("gatherRows", [x], (t) => gatherRows(t, x, idx, 3));
  const y = new Var(rand(3 * 3));
  const w = new Var(rand(8));
  const slots = Int32Array.from([5, 0, 4]);
  gradcheck("scatterAddScaled", [y, w], (t) => {
    const out = new Var(new Float32Array(4 * 3));
    scatterAddScaled(t, out, y, idx, w, slots, 3);
    return out;
  });
  const logits = new Var(rand(3 * 4));
  const chosen = Int32Array.from([0, 2, 1, 3, 3, 0]);
  gradcheck("gateWeights(norm)", [logits], (t) => gateWeights(t, logits, chosen, 3, 4, 2, true, 2.5));
  gradcheck("gateWeights", [logits], (t) => gateWeights(t, logits, chosen, 3, 4, 2, false, 1));
  gradcheck("seqBalanceLoss", [logits], (t) => seqBalanceLoss(t, logits, chosen, 1, 3, 4, 2, 0.1));
});

test("whole tiny DeepSeek-V3 loss: gradients of weights in every block type", () => {
  const cfg = microConfig(12);
  const m = new TinyV3(cfg, 3);
  for (const p of m.params.values()) for (let i = 0; i < p.data.length; i++) p.data[i] += rng.normal() * 0.3;
  const ids = Int32Array.from([1, 4, 7, 2, 9, 3]);
  const targets = Int32Array.from([4, 7, 2, 9, 3, 5]);
  const mask = new Float32Array(6).fill(1);
  const names = [
    "model.layers.0.self_attn.q_b_proj.weight",
    "model.layers.0.self_attn.kv_a_proj_with_mqa.weight",
    "model.layers.0.mlp.up_proj.weight",
    "model.layers.1.mlp.gate.weight",
    "model.layers.1.mlp.shared_experts.down_proj.weight",
    "model.embed_tokens.weight",
    "lm_head.weight",
  ];
  // Routing is piecewise constant: small eps keeps it fixed while the loss moves smoothly.
  gradcheck(
    "model",
    names.map((n) => m.p(n)),
    (t) => m.loss(t, ids, targets, mask, 2, 3).loss,
    3e-3,
    3e-2,
  );
});

// The trainer's attention kernels (attention.ts attnWasm, assembly/train/attention.ts) against the reference
// loops (attnRef) on odd shapes: head sizes 1..5 past multiples of 4 (the kernels run four keys per vector and
// pad T to a multiple of 4), one-token and 130-token sequences, and the shipped model's 8 / 16 / 12 heads.
// The reference sums in f64, the kernels in f32 in another order, with a polynomial exp (rel. err < 2e-7): each
// output and gradient must agree within 1e-5 of the largest magnitude of its kind, far above f32 rounding over
// sums of ~130 terms and far below any real slip (a wrong mask, stride or sign moves them by O(1)).
// The gradients themselves are checked against finite differences in autograd.test.ts.

import assert from "node:assert/strict";
import { test } from "node:test";
import { type AttnShape, attn, attnRef, attnWasm } from "./attention.js";
import { mlaAttention, Tape, Var } from "./autograd.js";
import { Rng } from "./rng.js";

const rng = new Rng(5);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

function close(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, what);
  let scale = 0;
  for (const x of want) scale = Math.max(scale, Math.abs(x));
  for (let i = 0; i < got.length; i++)
    if (!(Math.abs(got[i] - want[i]) <= 1e-5 * scale + 1e-30))
      assert.fail(`${what}: element ${i}: ${got[i]} vs reference ${want[i]} (largest ${scale})`);
}

const shapes: AttnShape[] = [
  { B: 1, T: 1, H: 1, nope: 1, rd: 1, V: 1, scale: 1 },
  { B: 2, T: 7, H: 3, nope: 3, rd: 2, V: 5, scale: 0.5 },
  { B: 2, T: 130, H: 4, nope: 8, rd: 16, V: 12, scale: 0.2 },
  { B: 3, T: 9, H: 2, nope: 5, rd: 4, V: 4, scale: 0.35 },
  { B: 1, T: 4, H: 1, nope: 2, rd: 3, V: 7, scale: 2 },
];

test("the trainer's attention runs on the wasm kernels (the build made them)", () => {
  assert.ok(attnWasm, "build/r1ts-train.wasm is missing or lacks mla_fwd / mla_bwd");
  assert.equal(attn, attnWasm);
});

test("wasm attention matches the reference loops: output and all four gradients, added onto existing ones", () => {
  for (const s of shapes) {
    const { B, T, H, nope, rd, V } = s;
    const what = JSON.stringify(s);
    const ins = [rand(B * T * H * (nope + rd)), rand(B * T * H * nope), rand(B * T * rd), rand(B * T * H * V)];
    // A softmax sharp enough to matter: queries doubled, scores of several units.
    ins[0] = ins[0].map((x) => 2 * x);
    const dO = rand(B * T * H * V);
    const start = ins.map((a) => rand(a.length));
    const [q, kn, kp, v] = ins;
    const outs = [attnRef, attnWasm!].map((impl) => {
      const saved = impl.forward(q, kn, kp, v, s);
      const grads = start.map((g) => g.slice()) as [Float32Array, Float32Array, Float32Array, Float32Array];
      impl.backward(q, kn, kp, v, saved, dO, grads, s);
      return [saved.out, ...grads];
    });
    for (const [i, name] of ["out", "dq", "dkNope", "dkPe", "dv"].entries())
      close(outs[1][i], outs[0][i], `${name} ${what}`);
  }
});

test("attention is causal on the kernels: a later key or value never moves an earlier output", () => {
  const s = { B: 1, T: 11, H: 2, nope: 4, rd: 4, V: 4, scale: 0.5 };
  const q = new Var(rand(11 * 2 * 8));
  const kn = rand(11 * 2 * 4);
  const kp = rand(11 * 4);
  const v = rand(11 * 2 * 4);
  const run = () => mlaAttention(new Tape(false), q, new Var(kn), new Var(kp), new Var(v), 1, 11, 2, 4, 4, 4, s.scale);
  const before = run().data.slice();
  kn.fill(7, 10 * 2 * 4); // token 10's keys and values
  kp.fill(-3, 10 * 4);
  v.fill(5, 10 * 2 * 4);
  const after = run().data;
  assert.deepEqual(after.subarray(0, 10 * 2 * 4), before.subarray(0, 10 * 2 * 4));
  assert.notDeepEqual(after.subarray(10 * 2 * 4), before.subarray(10 * 2 * 4));
});

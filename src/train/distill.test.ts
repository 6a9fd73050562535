// Distillation: the KL op's gradient against finite differences (both directions, with temperature, masked
// rows), KL = 0 for a student equal to its teacher and > 0 otherwise, forward-KL steps bringing a student
// toward its teacher on held-out sequences, the sequence-level filter on hand-made completions, one sampled
// step of each sampling mode through the runtime, and a stopped-then-resumed run matching an uninterrupted one.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { klDivergence, Tape, Var } from "./autograd.js";
import { saveCheckpoint } from "./checkpoint.js";
import { toBatch } from "./data/arith.js";
import {
  type DistillRecipe,
  type DistillState,
  defaultDistillRecipe,
  distill,
  distillStep,
  keepSample,
  measureKl,
  stepExamples,
} from "./distill.js";
import { TinyV3 } from "./model.js";
import { AdamW, recipeAdamW } from "./optim.js";
import { Rng } from "./rng.js";
import { microConfig } from "./trainer.js";

const V = 102;

/** A micro model with weights large enough that its distributions are far from uniform (as grpo.test.ts). */
function noisyModel(seed: number): TinyV3 {
  const m = new TinyV3(microConfig(V), seed);
  const rng = new Rng(seed * 31);
  for (const p of m.params.values()) for (let i = 0; i < p.data.length; i++) p.data[i] += rng.normal() * 0.3;
  return m;
}

function micro(over: Partial<DistillRecipe>): DistillRecipe {
  return defaultDistillRecipe({
    batch: 2,
    group: 2,
    maxTokens: 5,
    task: { minDigits: 1, maxDigits: 1, noThink: 0 },
    lr: 1e-2,
    warmup: 0,
    minLrRatio: 1,
    weightDecay: 0,
    ...over,
  });
}

function state(r: DistillRecipe, teacher: TinyV3, student: TinyV3, dir: string): DistillState {
  const params = [...student.params.values()];
  return { teacher, student, params, opt: recipeAdamW(params, r), dir };
}

test("klDivergence: gradient = finite differences, forward and reverse, with temperature and masked rows", () => {
  const rng = new Rng(5);
  const N = 4;
  const Vv = 7;
  const target = Float32Array.from({ length: N * Vv }, () => rng.normal() * 2);
  const weights = new Float32Array([1, 0, 0.5, 2]);
  for (const opts of [
    { temperature: 1, reverse: false },
    { temperature: 2, reverse: false, denom: 3 },
    { temperature: 1, reverse: true },
    { temperature: 1.5, reverse: true, denom: 2 },
  ]) {
    const x = new Var(Float32Array.from({ length: N * Vv }, () => rng.normal() * 2));
    const tape = new Tape();
    const loss = klDivergence(tape, x, target, weights, Vv, opts);
    tape.backward(loss);
    const g = Float32Array.from(x.grad!);
    // Row 1 has weight 0: no loss, no gradient.
    for (let i = Vv; i < 2 * Vv; i++) assert.equal(g[i], 0);
    const f = () => klDivergence(new Tape(false), x, target, weights, Vv, opts).data[0];
    let nonTrivial = 0;
    for (let i = 0; i < N * Vv; i++) {
      const v = x.data[i];
      const eps = 1e-2;
      x.data[i] = v + eps;
      const up = f();
      x.data[i] = v - eps;
      const dn = f();
      x.data[i] = v;
      const num = (up - dn) / (2 * eps);
      assert.ok(
        Math.abs(num - g[i]) <= 2e-3 * Math.max(0.1, Math.abs(num)),
        `${JSON.stringify(opts)} [${i}]: ${g[i]} vs ${num}`,
      );
      if (Math.abs(num) > 1e-3) nonTrivial++;
    }
    assert.ok(nonTrivial >= 10, `only ${nonTrivial} non-trivial entries`);
  }
});

test("klDivergence: value against a direct sum, and 0 when the logits match", () => {
  const z = new Float32Array([1, -2, 0.5, 3]);
  const t = new Float32Array([0.2, 1, -1, 2]);
  const sm = (a: Float32Array) => {
    const e = [...a].map(Math.exp);
    const s = e.reduce((x, y) => x + y, 0);
    return e.map((v) => v / s);
  };
  const q = sm(z);
  const p = sm(t);
  const fwd = p.reduce((s, pi, i) => s + pi * Math.log(pi / q[i]), 0);
  const rev = q.reduce((s, qi, i) => s + qi * Math.log(qi / p[i]), 0);
  const one = new Float32Array([1]);
  assert.ok(Math.abs(klDivergence(new Tape(false), new Var(z), t, one, 4).data[0] - fwd) < 1e-6);
  assert.ok(Math.abs(klDivergence(new Tape(false), new Var(z), t, one, 4, { reverse: true }).data[0] - rev) < 1e-6);
  assert.ok(fwd > 0.1 && rev > 0.1 && Math.abs(fwd - rev) > 1e-3);
  assert.ok(Math.abs(klDivergence(new Tape(false), new Var(t), t, one, 4, { temperature: 3 }).data[0]) < 1e-7);
});

test("student == teacher (same weights): KL 0 in both directions; a different student: KL > 0", () => {
  const teacher = noisyModel(3);
  const same = noisyModel(3);
  const other = noisyModel(4);
  const b = toBatch(stepExamples(micro({}), 0));
  for (const [T, reverse] of [
    [1, false],
    [2, false],
    [1, true],
  ] as const) {
    const z = measureKl(same, teacher, b, T, reverse);
    const d = measureKl(other, teacher, b, T, reverse);
    assert.ok(Math.abs(z) < 1e-6, `equal models: KL ${z}`);
    assert.ok(d > 1e-2, `different models: KL ${d}`);
  }
});

test("forward-KL distillation steps lower the KL to the teacher on held-out sequences", async () => {
  const r = micro({ mode: "forward-kl", data: "task", batch: 4 });
  const st = state(r, noisyModel(3), new TinyV3(microConfig(V), 9), "/nonexistent");
  const held = toBatch(stepExamples(r, 1000));
  const before = measureKl(st.student, st.teacher, held);
  const logs = [];
  const cum = { tokens: 0, wallS: 0 };
  for (let s = 0; s < 12; s++) {
    const e = await distillStep(st, r, s, cum);
    cum.tokens = e.tokens;
    logs.push(e);
  }
  const after = measureKl(st.student, st.teacher, held);
  // Measured 0.57 -> 0.23.
  assert.ok(after < 0.6 * before, `held-out KL ${before} -> ${after}`);
  assert.ok(logs[11].kl! < logs[0].kl!, `training KL ${logs[0].kl} -> ${logs[11].kl}`);
  // Compute accounting: task data samples nothing; every step runs teacher and student over the same batch.
  for (const e of logs) {
    assert.equal(e.sampledTokens, 0);
    assert.ok(e.trainTokens > 0 && e.teacherTokens === e.studentTokens && e.studentTokens >= e.trainTokens);
  }
  assert.equal(
    logs[11].tokens,
    logs.reduce((s, e) => s + e.trainTokens, 0),
  );
});

test("sequence filter keeps only correct (and, when asked, well-formed) completions", () => {
  const think = " __3+5_____\n ___3+5____\n";
  assert.equal(keepSample(`${think}</think>\n\n8`, true, "8", true), true);
  assert.equal(keepSample(`${think}</think>\n\n9`, true, "8", true), false); // wrong answer
  assert.equal(keepSample(`${think}</think>\n\n9`, true, "8", false), false);
  assert.equal(keepSample(`${think}</think>\n\n8`, false, "8", true), false); // cut off by the token cap
  assert.equal(keepSample(`${think}</think>\n\n8`, false, "8", false), true);
  assert.equal(keepSample(`${think}</think>\n\n8 and 9`, true, "8", true), false); // junk after the answer
  assert.equal(keepSample(`${think}</think>\n\n-8`, true, "8", false), false);
  assert.equal(keepSample(`${think}`, true, "8", false), false); // no answer at all
  assert.equal(keepSample(`${think}</think>\n\n108`, true, "108", true), true);
});

test("sampled modes through the runtime: sequence keeps nothing from a random teacher; reverse-KL updates", async () => {
  const dir = mkdtempSync(join(tmpdir(), "r1-distill-test-"));
  try {
    const seq = micro({ mode: "sequence", requireFormat: false });
    const a = state(seq, noisyModel(3), new TinyV3(microConfig(V), 9), dir);
    const w0 = Float32Array.from(a.student.p("lm_head.weight").data);
    const e = await distillStep(a, seq, 0);
    // A random teacher's 5-token completions are (almost surely) never right: nothing to train on.
    assert.equal(e.kept, 0);
    assert.equal(e.loss, null);
    assert.ok(e.sampledTokens >= 4 && e.length! >= 1 && e.length! <= 6, `sampled ${e.sampledTokens}`);
    assert.deepEqual(a.student.p("lm_head.weight").data, w0);

    const rkl = micro({ mode: "reverse-kl" });
    const b = state(rkl, noisyModel(3), noisyModel(4), dir);
    const e2 = await distillStep(b, rkl, 0);
    assert.ok(e2.kl! > 1e-2 && e2.trainTokens === e2.sampledTokens, `kl ${e2.kl}, tokens ${e2.trainTokens}`);
    assert.ok(e2.gradNorm > 0);
    assert.notDeepEqual(b.student.p("lm_head.weight").data, noisyModel(4).p("lm_head.weight").data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a stopped run resumes from its checkpoint and matches an uninterrupted one; exports FP8", async () => {
  const dir = mkdtempSync(join(tmpdir(), "r1-distill-resume-"));
  try {
    const teacher = noisyModel(3);
    const ckpt = join(dir, "teacher.bin");
    saveCheckpoint(
      ckpt,
      teacher,
      new AdamW([...teacher.params.values()], { lr: 0, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0 }),
      {
        step: 0,
        history: [],
      },
    );
    const teacherRecipe = join(dir, "teacher.json");
    writeFileSync(teacherRecipe, JSON.stringify({ model: microConfig(V) }));
    const recipe = (name: string) =>
      micro({
        name,
        out: join(dir, name),
        teacher: ckpt,
        teacherRecipe,
        steps: 6,
        ckptEvery: 2,
        logEvery: 1,
        warmup: 2,
        minLrRatio: 0.1,
      });
    const quiet = () => {};
    const ref = await distill({ ...recipe("ref"), export: join(dir, "hf") }, { log: quiet });
    const part = await distill(recipe("part"), { log: quiet, stopAt: 3 });
    assert.equal(part.logs.length, 3);
    const rest = await distill(recipe("part"), { log: quiet });
    assert.equal(rest.logs.length, 3);
    // Wall times differ; step, loss, KL, kept and cumulative tokens must not.
    const det = (h: number[][]) => h.map((row) => row.slice(0, 5));
    assert.deepEqual(det(rest.history), det(ref.history));
    for (const [n, p] of ref.student.params) assert.deepEqual(rest.student.p(n).data, p.data, n);
    await assert.rejects(distill({ ...recipe("part"), mode: "reverse-kl", steps: 8 }, { log: quiet }), /forward-kl/);
    const cfg = JSON.parse(readFileSync(join(dir, "hf", "config.json"), "utf8"));
    assert.equal(cfg.quantization_config.quant_method, "fp8");
    assert.ok(existsSync(join(dir, "hf", "model.safetensors")));
    assert.equal(
      readFileSync(join(dir, "ref", "log.jsonl"), "utf8")
        .trim()
        .split("\n").length,
      6,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Knowledge distillation behind `r1 distill --recipe X.json`: a frozen SFT teacher (a checkpoint + the recipe it
// was trained with) teaches a smaller TinyV3 student, in one of three modes:
//
//   sequence    R1's recipe for its distilled models (rejection sampling, then plain SFT; Kim & Rush's
//               sequence-level KD): per step, `group` completions for each of `batch` fresh prompts are sampled
//               from the teacher through the runtime, the ones with the right answer (and, with requireFormat,
//               R1's layout: see keepSample) are kept, and the student takes one masked cross-entropy step on
//               their response tokens, as `r1 train` does on its scratchpads. No kept sample: no update.
//   forward-kl  logit KD (Hinton): on fixed sequences (data "task": the scratchpad data of data/arith, `batch`
//               examples; data "teacher": the teacher's samples, kept or not), loss = T^2 * mean over response
//               positions of KL(p_teacher || q_student), both softmaxes at temperature T. Mass-covering.
//   reverse-kl  on-policy (GKD with beta = lambda = 1): the student samples the completions, and the loss is
//               T^2 * mean over the positions it visited of the full-distribution KL(q_student || p_teacher)
//               given its own prefix. Estimator: the exact per-position reverse KL (a sum over the vocabulary,
//               no sampling noise), differentiated only through the student's next-token distribution; the
//               prefixes are treated as data, so the policy-gradient term for how earlier tokens change later
//               states (MiniLLM keeps it) is dropped, as GKD does. Mode-seeking.
//
// Sampling goes through grpo.ts's path: the model is exported (FP8 E4M3 Linear weights, exportHf) and loaded
// with loadEngine, so samples come from the quantized copy while teacher logits come from the f32 trainer
// weights. The teacher is frozen, so it is exported once per process; the student (reverse-kl) every step.
// Each step's prompts and sampling seeds are a function of (seed, step) only, so a resumed run draws what the
// killed one would have. Compute is logged per step (tokens sampled, through the teacher, trained; seconds in
// sampling, teacher forward and update; cumulative tokens and wall time across resumes) so distillation and
// GRPO can be compared at equal cost.

import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Engine, loadEngine } from "../generate/engine.js";
import { klDivergence, type Param, Tape, type Var } from "./autograd.js";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.js";
import {
  answerOf,
  type Batch,
  type Example,
  makeExample,
  operandPairs,
  promptText,
  type TaskOptions,
  toBatch,
} from "./data/arith.js";
import { encode } from "./data/vocab.js";
import { exportHf, importHf } from "./export.js";
import { type Rollout, sampleEngine, sampleRollouts, scoreText } from "./grpo.js";
import { type TinyConfig, TinyV3, updateBias } from "./model.js";
import { type AdamW, clipGradNorm, lrAt, recipeAdamW, zeroGrads } from "./optim.js";
import { svgPlot } from "./plot.js";
import { Rng } from "./rng.js";
import { defaultRecipe, type Recipe, scheduleOf } from "./trainer.js";

export type DistillMode = "sequence" | "forward-kl" | "reverse-kl";

/** Seed, optimizer, schedule and checkpoint cadence mean what they mean in an SFT recipe. */
export interface DistillRecipe
  extends Pick<
    Recipe,
    "seed" | "lr" | "warmup" | "minLrRatio" | "weightDecay" | "beta2" | "clip" | "steps" | "ckptEvery" | "logEvery"
  > {
  name: string;
  /** Run folder: checkpoint.bin, log.jsonl, loss.svg. */
  out: string;
  /**
   * The teacher (frozen): an SFT checkpoint file, or a folder exportHf wrote (models/r1-tiny), and the recipe it
   * was trained with (for its model config).
   */
  teacher: string;
  teacherRecipe: string;
  /** Student model config: these fields over the teacher's (vocabulary and tokenizer must stay the same). */
  student: Partial<TinyConfig>;
  /** Optional checkpoint the student starts from (weights only); absent: a seeded fresh init. */
  studentInit?: string;
  mode: DistillMode;
  /**
   * forward-kl's sequences: the task's scratchpad examples, or the teacher's samples. "task" needs a teacher
   * trained on the scratchpad layout data/arith.ts writes now (a teacher scores a changed layout worse than
   * uniform); the teacher's own samples are always in its layout.
   */
  data: "task" | "teacher";
  /** Operand lengths of prompts and examples; noThink and computeWeight apply to task data only. */
  task: TaskOptions;
  /** KD softmax temperature T (logit modes); the loss is scaled by T^2 so gradients keep their size. */
  temperature: number;
  /** Temperature the teacher (sequence, data "teacher") or student (reverse-kl) samples at. */
  sampleTemperature: number;
  /** Prompts (or task examples) per step, and samples per prompt when sampling. */
  batch: number;
  group: number;
  /** Completion cap when sampling; a capped completion is never kept by the sequence filter. */
  maxTokens: number;
  /** sequence: keep only completions that also pass grpo's formatOk (stopped, one </think>, "\n\n<int>"). */
  requireFormat: boolean;
  /** The student's aux-loss-free routing-bias speed (0: biases stay as initialised). */
  biasGamma: number;
  /** Export the final student here as a Hugging Face folder (FP8 Linear weights). */
  export?: string;
}

export function defaultDistillRecipe(over: Partial<DistillRecipe>): DistillRecipe {
  return {
    name: "distill",
    out: "runs/distill",
    teacher: "runs/r1-tiny-4500/checkpoint.bin",
    teacherRecipe: "recipes/r1-tiny-4500.json",
    student: {},
    mode: "forward-kl",
    data: "task",
    task: { minDigits: 1, maxDigits: 4, noThink: 0.05 },
    temperature: 1,
    sampleTemperature: 1,
    batch: 8,
    group: 4,
    maxTokens: 256,
    requireFormat: true,
    seed: 1,
    lr: 2e-3,
    warmup: 30,
    minLrRatio: 0.05,
    weightDecay: 0.01,
    beta2: 0.98,
    clip: 1,
    biasGamma: 0.001,
    steps: 1000,
    ckptEvery: 25,
    logEvery: 10,
    ...over,
  };
}

// ---- pieces ----

/** Rejection-sampling filter: the answer is right (grpo's rule check) and, with requireFormat, well-formed. */
export function keepSample(text: string, stopped: boolean, want: string, requireFormat: boolean): boolean {
  const s = scoreText(text, stopped, want, 0);
  return s.correct && (!requireFormat || s.formatted);
}

/** The prompts of `step` as operand pairs: a function of (seed, step) only. */
export function stepProblems(r: DistillRecipe, step: number): { a: string; b: string }[] {
  return operandPairs(r.seed, step, r.batch, r.task.minDigits, r.task.maxDigits);
}

/** The task examples of `step` (forward-kl on data "task"), seeded apart from the prompts. */
export function stepExamples(r: DistillRecipe, step: number): Example[] {
  const rng = new Rng((r.seed * 1000033 + step * 7907 + 17) >>> 0);
  return Array.from({ length: r.batch }, () => makeExample(rng, r.task));
}

const asExamples = (ro: Rollout[]): Example[] =>
  ro.map((x) => ({ ids: [...x.prompt, ...x.completion], promptLen: x.prompt.length }));

/** Teacher logits [B*T, vocab] on a batch, no tape; its MoE load counters are reset (its biases stay frozen). */
export function teacherLogits(teacher: TinyV3, b: Batch): Float32Array {
  const logits = teacher.forward(new Tape(false), b.ids, b.B, b.T).logits.data;
  updateBias(teacher, 0);
  return logits;
}

/**
 * The logit-KD loss on one forward pass of the student: T^2 * mask-weighted mean over response positions of
 * KL(p || q) (forward) or KL(q || p) (reverse); `kl` is the mean KL itself (the loss / T^2).
 */
export function klLoss(
  tape: Tape,
  student: TinyV3,
  target: Float32Array,
  b: Batch,
  opts: { temperature: number; reverse: boolean },
): { loss: Var; kl: number } {
  const T = opts.temperature;
  const { logits } = student.forward(tape, b.ids, b.B, b.T);
  // Weights mask * T^2 over a denominator of sum(mask): the T^2-scaled, mask-weighted mean KL.
  let denom = 0;
  const w = new Float32Array(b.mask.length);
  for (let i = 0; i < w.length; i++) {
    w[i] = b.mask[i] * T * T;
    denom += b.mask[i];
  }
  const loss = klDivergence(tape, logits, target, w, student.cfg.vocabSize, {
    temperature: T,
    reverse: opts.reverse,
    denom,
  });
  return { loss, kl: loss.data[0] / (T * T) };
}

/** Mean per-position KL of student vs teacher on a batch (no update; the student's loads are reset too). */
export function measureKl(student: TinyV3, teacher: TinyV3, b: Batch, temperature = 1, reverse = false): number {
  const { kl } = klLoss(new Tape(false), student, teacherLogits(teacher, b), b, { temperature, reverse });
  updateBias(student, 0);
  return kl;
}

// ---- state ----

export interface DistillState {
  teacher: TinyV3;
  student: TinyV3;
  params: Param[];
  opt: AdamW;
  /** Scratch folder for exports (teacher once, student per reverse-kl step). */
  dir: string;
  teacherEngine?: Engine;
}

export function teacherConfigOf(r: DistillRecipe): TinyConfig {
  return defaultRecipe(JSON.parse(readFileSync(r.teacherRecipe, "utf8")) as Partial<Recipe>).model;
}

export function studentConfigOf(r: DistillRecipe, teacher: TinyConfig): TinyConfig {
  const cfg = { ...teacher, ...r.student };
  if (cfg.vocabSize !== teacher.vocabSize) throw new Error("distill: student and teacher must share the vocabulary");
  return cfg;
}

/** Teacher from its checkpoint, student from studentInit or a seeded init, fresh optimizer. */
export function newDistillState(r: DistillRecipe, dir: string, teacherCfg = teacherConfigOf(r)): DistillState {
  const teacher = new TinyV3(teacherCfg, r.seed);
  // A folder is an exported model (models/r1-tiny ships as one); a file, a trainer checkpoint.
  if (existsSync(r.teacher) && statSync(r.teacher).isDirectory()) importHf(r.teacher, teacher);
  else if (!loadCheckpoint(r.teacher, teacher)) throw new Error(`distill: teacher checkpoint ${r.teacher} not found`);
  const student = new TinyV3(studentConfigOf(r, teacherCfg), r.seed);
  if (r.studentInit && !loadCheckpoint(r.studentInit, student))
    throw new Error(`distill: student init checkpoint ${r.studentInit} not found`);
  const params = [...student.params.values()];
  return { teacher, student, params, opt: recipeAdamW(params, r), dir };
}

function teacherEngine(st: DistillState): Engine {
  if (!st.teacherEngine) {
    const d = join(st.dir, "teacher");
    exportHf(st.teacher, d);
    st.teacherEngine = loadEngine(d);
  }
  return st.teacherEngine;
}

// ---- one step ----

export interface DistillLog {
  step: number;
  mode: DistillMode;
  /** Cross-entropy (sequence) or T^2-scaled KL (logit modes); null when the step had nothing to train on. */
  loss: number | null;
  /** Mean per-position KL (logit modes; null in sequence mode). */
  kl: number | null;
  lr: number;
  gradNorm: number;
  /** sequence: fraction of teacher samples kept; null otherwise. */
  kept: number | null;
  /** Mean sampled completion length in tokens (EOS included); null when nothing was sampled. */
  length: number | null;
  /** Compute of this step: tokens generated, run through the teacher (B*T), through the student (B*T), and
   * carrying loss; seconds sampling (incl. export), in the teacher forward, in the student update, in all. */
  sampledTokens: number;
  teacherTokens: number;
  studentTokens: number;
  trainTokens: number;
  sampleS: number;
  teacherS: number;
  updateS: number;
  stepS: number;
  /** Cumulative over the whole run, resumes included. */
  tokens: number;
  wallS: number;
  /** Loss-carrying tokens per second of step time. */
  tokPerS: number;
}

/** One distillation step (see the file comment for each mode); `cum` carries the run's cumulative figures. */
export async function distillStep(
  st: DistillState,
  r: DistillRecipe,
  step: number,
  cum = { tokens: 0, wallS: 0 },
): Promise<DistillLog> {
  const t0 = performance.now();
  const sampling = {
    maxTokens: r.maxTokens,
    temperature: r.sampleTemperature,
    seed: (r.seed * 100003 + step) % 2 ** 31,
  };
  let examples: Example[];
  let rollouts: Rollout[] | null = null;
  let kept: number | null = null;
  if (r.mode === "forward-kl" && r.data === "task") examples = stepExamples(r, step);
  else {
    const probs = stepProblems(r, step);
    const prompts = probs.map((p) => encode(promptText(p.a, p.b)));
    rollouts =
      r.mode === "reverse-kl"
        ? await sampleRollouts(st.student, join(st.dir, "student"), prompts, r.group, sampling)
        : await sampleEngine(teacherEngine(st), prompts, r.group, sampling);
    let use = rollouts;
    if (r.mode === "sequence") {
      use = rollouts.filter((ro, i) => {
        const p = probs[Math.floor(i / r.group)];
        return keepSample(ro.text, ro.stopped, answerOf(p.a, p.b), r.requireFormat);
      });
      kept = use.length / rollouts.length;
    }
    examples = asExamples(use);
  }
  const t1 = performance.now();
  const lr = lrAt(scheduleOf(r), step);
  let loss: number | null = null;
  let kl: number | null = null;
  let gradNorm = 0;
  let teacherTokens = 0;
  let studentTokens = 0;
  let trainTokens = 0;
  let t2 = t1;
  if (examples.length > 0) {
    const b = toBatch(examples, r.mode === "forward-kl" && r.data === "task" ? r.task.computeWeight : 1);
    const tape = new Tape();
    zeroGrads(st.params);
    let lossVar: Var;
    if (r.mode === "sequence") {
      const out = st.student.loss(tape, b.ids, b.targets, b.mask, b.B, b.T);
      lossVar = out.loss;
      loss = out.ce;
    } else {
      const target = teacherLogits(st.teacher, b);
      teacherTokens = b.B * b.T;
      t2 = performance.now();
      const out = klLoss(tape, st.student, target, b, { temperature: r.temperature, reverse: r.mode === "reverse-kl" });
      lossVar = out.loss;
      loss = out.loss.data[0];
      kl = out.kl;
    }
    tape.backward(lossVar);
    gradNorm = clipGradNorm(st.params, r.clip);
    st.opt.update(lr);
    updateBias(st.student, r.biasGamma);
    studentTokens = b.B * b.T;
    trainTokens = b.tokens;
  }
  const t3 = performance.now();
  const sampledTokens = rollouts ? rollouts.reduce((s, ro) => s + ro.completion.length, 0) : 0;
  const stepS = (t3 - t0) / 1000;
  return {
    step: step + 1,
    mode: r.mode,
    loss,
    kl,
    lr,
    gradNorm,
    kept,
    length: rollouts ? sampledTokens / rollouts.length : null,
    sampledTokens,
    teacherTokens,
    studentTokens,
    trainTokens,
    sampleS: (t1 - t0) / 1000,
    teacherS: (t2 - t1) / 1000,
    updateS: (t3 - t2) / 1000,
    stepS,
    tokens: cum.tokens + trainTokens,
    wallS: cum.wallS + stepS,
    tokPerS: trainTokens / stepS,
  };
}

// ---- the loop ----

export interface DistillOptions {
  stopAt?: number;
  log?: (line: string) => void;
  shouldStop?: () => boolean;
}

export interface DistillResult {
  student: TinyV3;
  /** This process's per-step logs. */
  logs: DistillLog[];
  /** Every step of the run: [step, loss, kl, kept, cumulative tokens, cumulative wall seconds], NaN for none. */
  history: number[][];
}

/** Runs (or resumes) a distillation recipe. */
export async function distill(r: DistillRecipe, opts: DistillOptions = {}): Promise<DistillResult> {
  const dir = mkdtempSync(join(tmpdir(), "r1-distill-"));
  try {
    return await runDistill(r, opts, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runDistill(r: DistillRecipe, opts: DistillOptions, dir: string): Promise<DistillResult> {
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  mkdirSync(r.out, { recursive: true });
  const ckptPath = join(r.out, "checkpoint.bin");
  const st = newDistillState(r, dir);
  const saved = loadCheckpoint(ckptPath, st.student, st.opt);
  if (saved && saved.extra?.mode !== r.mode)
    throw new Error(`distill: ${ckptPath} was written by a ${saved.extra?.mode} run, not ${r.mode}: use another out`);
  let step = saved?.step ?? 0;
  // The checkpoint header is JSON, where NaN ("none") comes back as null.
  const history = (saved?.history ?? []).map((row) => row.map((v) => v ?? Number.NaN));
  const last = history[history.length - 1];
  const cum = { tokens: last?.[4] ?? 0, wallS: last?.[5] ?? 0 };
  if (saved) log(`resumed ${r.name} from ${ckptPath} at step ${step}`);
  else {
    const ps = st.student.paramCount();
    const pt = st.teacher.paramCount();
    log(
      `${r.name}: ${r.mode} distillation from ${r.teacher} (${pt.total} parameters) into a student of ` +
        `${ps.total} (${ps.active} active per token)`,
    );
  }
  const end = Math.min(r.steps, opts.stopAt ?? r.steps);
  const logs: DistillLog[] = [];
  const checkpoint = () => {
    saveCheckpoint(ckptPath, st.student, st.opt, { step, history, extra: { mode: r.mode } });
    const name = r.mode === "sequence" ? "CE on kept samples" : `T^2 KL (T = ${r.temperature})`;
    writeFileSync(
      join(r.out, "loss.svg"),
      svgPlot([{ name, points: history.map((h) => [h[0], h[1]] as [number, number]) }], {
        title: `${r.name}: ${r.mode} distillation loss`,
        xLabel: "step",
        yLabel: "loss (nats/token)",
        logY: true,
      }),
    );
  };
  const nan = (x: number | null) => x ?? Number.NaN;
  const f = (x: number | null, d = 4) => (x === null ? "-" : x.toFixed(d));
  while (step < end) {
    if (opts.shouldStop?.()) {
      if (step % r.ckptEvery !== 0) checkpoint(); // keep the steps since the last periodic checkpoint
      break;
    }
    const e = await distillStep(st, r, step, cum);
    step++;
    cum.tokens = e.tokens;
    cum.wallS = e.wallS;
    logs.push(e);
    history.push([step, nan(e.loss), nan(e.kl), nan(e.kept), e.tokens, e.wallS]);
    if (step % r.logEvery === 0 || step === end) {
      appendFileSync(join(r.out, "log.jsonl"), `${JSON.stringify(e)}\n`);
      log(
        `step ${step}/${r.steps}  loss ${f(e.loss)}  kl ${f(e.kl)}  kept ${f(e.kept, 2)}  len ${f(e.length, 1)}  ` +
          `lr ${e.lr.toExponential(2)}  |g| ${e.gradNorm.toFixed(3)}  ${e.tokPerS.toFixed(0)} tok/s  ` +
          `(sample ${e.sampleS.toFixed(1)}s, teacher ${e.teacherS.toFixed(1)}s, update ${e.updateS.toFixed(1)}s)`,
      );
    }
    if (step % r.ckptEvery === 0 || step === end) checkpoint();
  }
  if (step >= r.steps && r.export) {
    exportHf(st.student, r.export, { recipe: r.name, steps: String(step), teacher: r.teacher, distill: r.mode });
    log(`exported ${r.export}`);
  }
  return { student: st.student, logs, history };
}

// The SFT training loop behind `r1 train --recipe X.json`: batches drawn from a seeded task generator (the data
// of step s depends only on seed and s, so a resumed run sees exactly what the killed one would have),
// AdamW + clipping + warmup/cosine, aux-loss-free bias updates, atomic checkpoints every ckptEvery steps,
// a progress line with tokens/s and ETA, a JSONL log and an SVG loss curve beside the checkpoint.

import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Param, Tape } from "./autograd.js";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.js";
import { type Batch, type Example, makeExample, stepRng, type TaskOptions, toBatch } from "./data/arith.js";
import { corpusIds, type TextTask, textExample } from "./data/text.js";
import { encode } from "./data/vocab.js";
import { exportHf } from "./export.js";
import { maxVio, type TinyConfig, TinyV3, updateBias } from "./model.js";
import { type AdamW, clipGradNorm, lrAt, recipeAdamW, zeroGrads } from "./optim.js";
import { svgPlot } from "./plot.js";
import type { Fp8Gemm } from "./precision.js";
import { Rng } from "./rng.js";

export interface Recipe {
  name: string;
  /** Run folder: checkpoint, log.jsonl, loss.svg. */
  out: string;
  seed: number;
  model: TinyConfig;
  task: TaskOptions;
  /** Train on windows of a text corpus instead of the addition task (data/text.ts); `task` is then unused. */
  text?: TextTask;
  batch: number;
  steps: number;
  lr: number;
  warmup: number;
  minLrRatio: number;
  weightDecay: number;
  beta2: number;
  clip: number;
  fp8: boolean;
  /** Under fp8, the GEMMs that take E4M3 inputs (default all: forward, dgrad, wgrad); an ablation knob. */
  fp8Gemms?: Fp8Gemm[];
  /** Bias update speed gamma for aux-loss-free balancing (0: off). */
  biasGamma: number;
  /** Sequence-wise balance loss alpha (0: off). */
  seqAux: number;
  ckptEvery: number;
  logEvery: number;
  /**
   * For the first this-many steps only digit targets carry loss (the scratchpad's layout is given by teacher
   * forcing): the only signal is which digit, so attention heads form as lookups before the easy layout
   * tokens can pull them onto structural roles. 0 or absent: off.
   */
  digitFocusSteps?: number;
  /** Export the final model here as a Hugging Face folder. */
  export?: string;
}

export interface StepLog {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  maxVio: number;
  /** MaxVio of the loads summed over the logging window (averaged over MoE layers). */
  maxVioWindow: number;
  tokens: number;
  tokPerS: number;
}

export interface TrainOptions {
  /** Stop after this step (for tests and kill/resume demos); the run can be resumed later. */
  stopAt?: number;
  log?: (line: string) => void;
  /** Set by a signal handler to stop at the next step boundary. */
  shouldStop?: () => boolean;
}

export function defaultRecipe(over: Partial<Recipe>): Recipe {
  return {
    name: "run",
    out: "runs/run",
    seed: 1,
    model: {
      vocabSize: 102,
      hidden: 64,
      nLayers: 3,
      nHeads: 4,
      qLoraRank: 48,
      kvLoraRank: 32,
      qkNopeDim: 16,
      qkRopeDim: 32,
      vHeadDim: 16,
      intermediate: 192,
      moeIntermediate: 48,
      nRoutedExperts: 4,
      nSharedExperts: 1,
      topK: 2,
      firstKDense: 1,
      routedScalingFactor: 1,
      normTopkProb: true,
      ropeTheta: 10000,
      rmsEps: 1e-6,
      maxPos: 512,
    },
    task: { minDigits: 1, maxDigits: 4, noThink: 0.05 },
    batch: 16,
    steps: 1000,
    lr: 3e-3,
    warmup: 50,
    minLrRatio: 0.1,
    weightDecay: 0.1,
    beta2: 0.95,
    clip: 1,
    fp8: false,
    biasGamma: 0.001,
    seqAux: 0,
    ckptEvery: 50,
    logEvery: 10,
    ...over,
  };
}

/** The smallest config with every block type (MLA, dense layer, MoE layer): gradient checks and quick tests. */
export function microConfig(vocabSize: number): TinyConfig {
  return {
    ...defaultRecipe({}).model,
    vocabSize,
    hidden: 8,
    nLayers: 2,
    qLoraRank: 6,
    kvLoraRank: 4,
    qkNopeDim: 2,
    qkRopeDim: 4,
    vHeadDim: 2,
    intermediate: 8,
    moeIntermediate: 4,
    nHeads: 2,
  };
}

/** Trains (or resumes) a recipe; returns the model and the per-step log of this process. */
export function train(recipe: Recipe, opts: TrainOptions = {}): { model: TinyV3; history: number[][] } {
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  mkdirSync(recipe.out, { recursive: true });
  const ckptPath = join(recipe.out, "checkpoint.bin");
  const logPath = join(recipe.out, "log.jsonl");
  const st = newTrainState(recipe);
  const { model, opt } = st;
  const saved = loadCheckpoint(ckptPath, model, opt);
  let step = saved?.step ?? 0;
  const history = saved?.history ?? [];
  if (saved) log(`resumed ${recipe.name} from ${ckptPath} at step ${step}`);
  else {
    const pc = model.paramCount();
    log(`${recipe.name}: ${pc.total} parameters (${pc.active} active per token), fp8=${recipe.fp8}`);
  }
  const sched = scheduleOf(recipe);
  const end = Math.min(recipe.steps, opts.stopAt ?? recipe.steps);
  const t0 = performance.now();
  const step0 = step;
  let tokens = 0;
  let lossAcc = 0;
  let vioAcc = 0;
  let window: Float64Array[] = [];
  let n = 0;
  const checkpoint = () => {
    saveCheckpoint(ckptPath, model, opt, { step, history });
    writeFileSync(
      join(recipe.out, "loss.svg"),
      svgPlot([{ name: recipe.name, points: history.map((h) => [h[0], h[1]]) }], {
        title: `${recipe.name}: training loss`,
        xLabel: "step",
        yLabel: "loss (nats/token)",
        logY: true,
      }),
    );
  };
  while (step < end) {
    if (opts.shouldStop?.()) break;
    const batch = stepBatch(recipe, step);
    const lr = lrAt(sched, step);
    const { ce, gn, vio } = trainStep(st, recipe, batch, lr, window);
    step++;
    tokens += batch.B * batch.T;
    lossAcc += ce;
    vioAcc += vio;
    n++;
    if (step % recipe.logEvery === 0 || step === end) {
      const sec = (performance.now() - t0) / 1000;
      const tps = tokens / sec;
      const eta = ((end - step) * sec) / (step - step0);
      const vioWin = window.length ? window.reduce((a, w) => a + maxVio(w), 0) / window.length : 0;
      const entry: StepLog = {
        step,
        loss: lossAcc / n,
        lr,
        gradNorm: gn,
        maxVio: vioAcc / n,
        maxVioWindow: vioWin,
        tokens,
        tokPerS: tps,
      };
      history.push([step, entry.loss, lr, entry.maxVio]);
      appendFileSync(logPath, `${JSON.stringify(entry)}\n`);
      log(
        `step ${step}/${recipe.steps}  loss ${entry.loss.toFixed(4)}  lr ${lr.toExponential(2)}  |g| ${gn.toFixed(2)}  ` +
          `maxvio ${entry.maxVio.toFixed(3)} (window ${vioWin.toFixed(3)})  ${tps.toFixed(0)} tok/s  eta ${fmtTime(eta)}`,
      );
      lossAcc = 0;
      vioAcc = 0;
      window = [];
      n = 0;
    }
    if (step % recipe.ckptEvery === 0 || step === end) checkpoint();
  }
  if (step >= recipe.steps && recipe.export) {
    exportHf(model, recipe.export, { recipe: recipe.name, steps: String(step) });
    log(`exported ${recipe.export}`);
  }
  return { model, history };
}

export interface TrainState {
  model: TinyV3;
  params: Param[];
  opt: AdamW;
}

/** A fresh model (seeded init) and its optimizer, as train() starts before loading any checkpoint. */
export function newTrainState(recipe: Recipe): TrainState {
  const model = new TinyV3(recipe.model, recipe.seed);
  const params = [...model.params.values()];
  return { model, params, opt: recipeAdamW(params, recipe) };
}

/** The learning-rate schedule of a recipe (lrAt(scheduleOf(r), step) is step's lr). */
export function scheduleOf(r: Pick<Recipe, "lr" | "warmup" | "steps" | "minLrRatio">): {
  lr: number;
  warmup: number;
  steps: number;
  minRatio: number;
} {
  return { lr: r.lr, warmup: r.warmup, steps: r.steps, minRatio: r.minLrRatio };
}

/**
 * A run's log.jsonl, one entry per step: a resumed run logs the steps after its checkpoint again, and the last
 * entry of a step wins. Generic over the entry type (SFT StepLog, GRPO's log).
 */
export function readRunLog<E extends { step: number }>(file: string): E[] {
  const byStep = new Map<number, E>();
  for (const l of readFileSync(file, "utf8").split("\n"))
    if (l.trim()) {
      const e = JSON.parse(l) as E;
      byStep.set(e.step, e);
    }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/**
 * Mean cross-entropy per response token of `model` (f32 forward, every loss weight 1) on n examples from one
 * fixed generator (seed 0x5eed0, not a step's stepRng): the same problems (or, for a text task, the same
 * windows of its held-out corpus) for every run, the figure two runs of one task compare at the end (a 10-step
 * window of training batches is a few thousand tokens of whatever the batches held).
 */
export function heldOutLoss(model: TinyV3, r: Pick<Recipe, "task" | "text">, n = 256, chunk = 32): number {
  const rng = new Rng(0x5eed0);
  const draw = exampleSource(r, true);
  let sum = 0;
  let tokens = 0;
  for (let i = 0; i < n; i += chunk) {
    const b = toBatch(Array.from({ length: Math.min(chunk, n - i) }, () => draw(rng)));
    const { ce } = model.loss(new Tape(false), b.ids, b.targets, b.mask, b.B, b.T);
    sum += ce * b.tokens;
    tokens += b.tokens;
  }
  return sum / tokens;
}

/** Draws one example of the recipe's task: addition problems, or windows of its (training or held-out) corpus. */
function exampleSource(r: Pick<Recipe, "task" | "text">, heldOut = false): (rng: Rng) => Example {
  const t = r.text;
  if (!t) return (rng) => makeExample(rng, r.task);
  const ids = corpusIds(heldOut ? t.heldOut : t.train);
  return (rng) => textExample(rng, ids, t.seqLen);
}

/** The batch of `step`: a function of (seed, step) only, so a resumed run sees what the killed one would have. */
export function stepBatch(recipe: Recipe, step: number): Batch {
  const rng = stepRng(recipe.seed, step);
  const draw = exampleSource(recipe);
  const batch = toBatch(
    Array.from({ length: recipe.batch }, () => draw(rng)),
    recipe.text ? 1 : recipe.task.computeWeight,
  );
  if (step < (recipe.digitFocusSteps ?? 0)) focusDigits(batch);
  return batch;
}

/**
 * One optimizer step: loss on a fresh tape, backward, clipping, AdamW at `lr`, routing-bias update. Returns the
 * batch cross-entropy, the gradient norm before clipping and the step's MaxVio (loads added to `window`).
 */
export function trainStep(
  st: TrainState,
  recipe: Recipe,
  batch: Batch,
  lr: number,
  window?: Float64Array[],
): { ce: number; gn: number; vio: number } {
  const tape = new Tape();
  zeroGrads(st.params);
  const { loss, ce } = st.model.loss(tape, batch.ids, batch.targets, batch.mask, batch.B, batch.T, {
    prec: { fp8: recipe.fp8, fp8Gemms: recipe.fp8Gemms },
    seqAux: recipe.seqAux,
  });
  tape.backward(loss);
  const gn = clipGradNorm(st.params, recipe.clip);
  st.opt.update(lr);
  const vio = updateBias(st.model, recipe.biasGamma, window);
  return { ce, gn, vio };
}

/** Drops the loss on every target that is not a digit. */
function focusDigits(batch: { targets: Int32Array; mask: Float32Array }): void {
  for (let i = 0; i < batch.mask.length; i++) if (!DIGIT_IDS.has(batch.targets[i])) batch.mask[i] = 0;
}

const DIGIT_IDS = new Set(encode("0123456789"));

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${Math.round(s % 60)}s` : `${s.toFixed(0)}s`;
}

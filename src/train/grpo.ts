// GRPO (DeepSeekMath / DeepSeek-R1) at tiny scale, behind `r1 grpo --recipe X.json`: start from an SFT
// checkpoint, and per step draw P addition prompts (a function of (seed, step) only, as stepBatch), sample G
// completions each from the current policy at temperature 1, score them with rule rewards (accuracy + format),
// normalise rewards within each group, and take one AdamW step on the clipped-ratio objective with the k3 KL
// to a frozen reference (the policy at the start of the run). Resumable from atomic checkpoints like train().
//
// Sampling goes through the runtime: the policy is exported (exportHf) to a temp folder every step and loaded
// with loadEngine, so rollouts use the KV-cached decoder. That export stores Linear weights in FP8 (E4M3,
// 128x128 blocks), so completions are drawn from a slightly quantized copy of pi_theta. With one gradient step
// per batch (mu = 1) we take pi_old := pi_theta (detached), as mu = 1 implementations do, and ignore that small
// sampler/learner mismatch (the same kind real RL stacks have between their inference engine and trainer).
//
// Loss, per completion o_i (|o_i| tokens, EOS included when sampled) and token t (DeepSeekMath's form):
//   L = 1/(P G) sum_i 1/|o_i| sum_t [ -min(rho_t A_i, clip(rho_t, 1-eps, 1+eps) A_i) + beta k3_t ]
//   rho_t = pi_theta(o_t) / pi_old(o_t),  k3_t = r_t - log r_t - 1,  r_t = pi_ref(o_t) / pi_theta(o_t).
// Gradient, with d(rho) = rho d(log pi_theta) and d(k3) = (1 - r) d(log pi_theta):
//   -min(...) contributes -rho A d(log pi) where the unclipped term is the min, 0 where the clip binds
//   (rho > 1+eps with A > 0, or rho < 1-eps with A < 0); beta k3 contributes beta (1 - r) d(log pi).
// So dL = sum_t c_t d(-log pi_theta(o_t)) with detached c_t = (rho_t A_i [unclipped] - beta (1 - r_t)) / |o_i|
// / (P G): a cross-entropy with signed per-token weights c_t and a fixed denominator, computed in one forward
// pass (TinyV3.loss with weightsFrom: the c_t need pi_theta of that very pass). At mu = 1, rho = 1 and the
// clip never binds; clipEps only matters once rollouts are reused (mu > 1, not done here).

import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Engine, loadEngine } from "../generate/engine.js";
import { generate } from "../generate/generate.js";
import { Tape } from "./autograd.js";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.js";
import { answerOf, extractAnswer, operandPairs, promptText, toBatch } from "./data/arith.js";
import { END_THINK, EOS_ID, encode } from "./data/vocab.js";
import { exportHf } from "./export.js";
import { type TinyConfig, TinyV3, updateBias } from "./model.js";
import { type AdamW, clipGradNorm, recipeAdamW, zeroGrads } from "./optim.js";
import { svgPlot } from "./plot.js";
import { defaultRecipe, type Recipe } from "./trainer.js";

export interface GrpoRecipe {
  name: string;
  /** Run folder: checkpoint.bin, log.jsonl, reward.svg. */
  out: string;
  /** SFT checkpoint the policy starts from; also the frozen reference model (never reset here). */
  init: string;
  /** The SFT recipe JSON the checkpoint was trained with (for its model config). */
  initRecipe: string;
  seed: number;
  /** Operand lengths of the prompts (both operands drawn independently in [min, max] digits). */
  minDigits: number;
  maxDigits: number;
  /** P prompts per step, G completions per prompt. */
  prompts: number;
  group: number;
  /** KL weight (k3 estimator) and ratio clip epsilon. */
  beta: number;
  clipEps: number;
  lr: number;
  weightDecay: number;
  beta2: number;
  /** Gradient-norm clip. */
  clip: number;
  steps: number;
  /** Completion cap; a truncated completion earns no format reward and almost never an accuracy one. */
  maxTokens: number;
  temperature: number;
  /** Reward for a well-formed completion (see formatOk), added to the accuracy reward of 1. */
  formatReward: number;
  /**
   * Leave groups whose rewards are all equal out of the update (DAPO's filter). Their policy term is exactly 0
   * anyway; what is lost is their KL term, and what is saved is most of the step's forward/backward when
   * successes are rare. The 1/(P G) normalisation is kept, so trained groups weigh what they would unfiltered.
   */
  skipFlatGroups: boolean;
  ckptEvery: number;
  logEvery: number;
}

export function defaultGrpoRecipe(over: Partial<GrpoRecipe>): GrpoRecipe {
  return {
    name: "grpo",
    out: "runs/grpo",
    init: "runs/r1-tiny-long/checkpoint.bin",
    initRecipe: "recipes/r1-tiny-long.json",
    seed: 1,
    minDigits: 1,
    maxDigits: 2,
    prompts: 4,
    group: 8,
    beta: 0.04,
    clipEps: 0.2,
    lr: 3e-4,
    weightDecay: 0,
    beta2: 0.99,
    clip: 1,
    steps: 100,
    maxTokens: 256,
    temperature: 1,
    formatReward: 0.1,
    skipFlatGroups: true,
    ckptEvery: 10,
    logEvery: 1,
    ...over,
  };
}

// ---- rewards and advantages ----

/**
 * Format rule: generation ended on EOS (not the token cap), the text holds exactly one `</think>`, and what
 * follows it is exactly "\n\n" and an integer: the layout the SFT data teaches. The think block itself is
 * not checked (any scratchpad, including an empty one, passes).
 */
export function formatOk(text: string, stopped: boolean): boolean {
  const i = text.indexOf(END_THINK);
  if (!stopped || i < 0 || text.indexOf(END_THINK, i + 1) >= 0) return false;
  return /^\n\n-?\d+$/.test(text.slice(i + END_THINK.length));
}

export interface Scored {
  reward: number;
  correct: boolean;
  formatted: boolean;
}

/** Rule reward: 1 if extractAnswer(text) equals the true sum, plus formatReward if formatOk. */
export function scoreText(text: string, stopped: boolean, want: string, formatReward: number): Scored {
  const correct = extractAnswer(text) === want;
  const formatted = formatOk(text, stopped);
  return { reward: (correct ? 1 : 0) + (formatted ? formatReward : 0), correct, formatted };
}

/**
 * A_i = (r_i - mean_g) / (std_g + eps) within each consecutive group of G rewards (population std); exactly 0
 * for a group whose rewards are all equal (no signal: DAPO filters such groups, here they simply add nothing).
 */
export function groupAdvantages(rewards: ArrayLike<number>, G: number, eps = 1e-4): Float64Array {
  const A = new Float64Array(rewards.length);
  for (let g0 = 0; g0 < rewards.length; g0 += G) {
    let mean = 0;
    for (let i = g0; i < g0 + G; i++) mean += rewards[i] / G;
    let v = 0;
    let same = true;
    for (let i = g0; i < g0 + G; i++) {
      v += (rewards[i] - mean) ** 2 / G;
      if (rewards[i] !== rewards[g0]) same = false;
    }
    if (same) continue;
    for (let i = g0; i < g0 + G; i++) A[i] = (rewards[i] - mean) / (Math.sqrt(v) + eps);
  }
  return A;
}

// ---- rollouts ----

export interface Rollout {
  prompt: number[];
  /** Sampled tokens, with EOS appended when generation stopped on it (EOS is an action too). */
  completion: number[];
  text: string;
  stopped: boolean;
}

/** The P prompts of `step`: a function of (seed, step) only, so a resumed run sees what the killed one would have. */
export function stepPrompts(r: GrpoRecipe, step: number): { a: string; b: string }[] {
  return operandPairs(r.seed, step, r.prompts, r.minDigits, r.maxDigits);
}

/** G completions per prompt from the policy, through its FP8 export (see the file comment); group-major order. */
export async function sampleRollouts(
  model: TinyV3,
  dir: string,
  prompts: number[][],
  G: number,
  opts: { maxTokens: number; temperature: number; seed: number },
): Promise<Rollout[]> {
  exportHf(model, dir);
  return sampleEngine(loadEngine(dir), prompts, G, opts);
}

/** G completions per prompt from an already loaded engine (a frozen model is exported once); group-major. */
export async function sampleEngine(
  e: Engine,
  prompts: number[][],
  G: number,
  opts: { maxTokens: number; temperature: number; seed: number },
): Promise<Rollout[]> {
  const out: Rollout[] = [];
  for (const [p, prompt] of prompts.entries())
    for (let g = 0; g < G; g++) {
      const gen = generate(e.model, e.tokenizer, prompt, {
        maxTokens: opts.maxTokens,
        temperature: opts.temperature,
        seed: opts.seed * 65536 + p * G + g,
      });
      let s = await gen.next();
      while (!s.done) s = await gen.next();
      const stopped = s.value.finishReason === "stop";
      const completion = stopped ? [...s.value.tokens, EOS_ID] : s.value.tokens;
      out.push({ prompt, completion, text: s.value.text, stopped });
    }
  return out;
}

// ---- the update ----

/** log softmax(logits_n)[target_n] for rows with mask != 0, else 0: [N]. */
export function targetLogProbs(logits: Float32Array, targets: Int32Array, mask: Float32Array, V: number): Float64Array {
  const out = new Float64Array(targets.length);
  for (let n = 0; n < targets.length; n++) {
    if (mask[n] === 0) continue;
    const o = n * V;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < V; i++) max = Math.max(max, logits[o + i]);
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp(logits[o + i] - max);
    out[n] = logits[o + targets[n]] - max - Math.log(sum);
  }
  return out;
}

export interface UpdateStats {
  /** Mean over completions of the mean k3 KL to the reference over their tokens. */
  kl: number;
  gradNorm: number;
  /** Completion tokens trained on. */
  tokens: number;
}

/**
 * One AdamW step on the GRPO loss for rollouts with advantages A (one per rollout). `oldLogp` ([B*T] in the
 * packed layout) gives pi_old for mu > 1; absent, pi_old = pi_theta and rho = 1 (see the file comment).
 */
export function grpoUpdate(
  policy: TinyV3,
  opt: AdamW,
  ref: TinyV3,
  rollouts: Rollout[],
  A: ArrayLike<number>,
  h: { beta: number; clipEps: number; lr: number; clip: number; denom?: number },
  oldLogp?: Float64Array,
): UpdateStats {
  const batch = toBatch(rollouts.map((r) => ({ ids: [...r.prompt, ...r.completion], promptLen: r.prompt.length })));
  const { ids, targets, mask, B, T } = batch;
  const denom = h.denom ?? B;
  const V = policy.cfg.vocabSize;
  const refLogp = targetLogProbs(ref.forward(new Tape(false), ids, B, T).logits.data, targets, mask, V);
  updateBias(ref, 0); // drop the loads the reference forward counted; its biases stay frozen
  let kl = 0;
  const weightsFrom = (logits: Float32Array) => {
    const lp = targetLogProbs(logits, targets, mask, V);
    const w = new Float32Array(B * T);
    kl = 0;
    for (let b = 0; b < B; b++) {
      const len = rollouts[b].completion.length;
      let klb = 0;
      for (let t = b * T; t < (b + 1) * T; t++) {
        if (mask[t] === 0) continue;
        const rho = oldLogp ? Math.exp(lp[t] - oldLogp[t]) : 1;
        const a = A[b];
        const clipped = (a > 0 && rho > 1 + h.clipEps) || (a < 0 && rho < 1 - h.clipEps);
        const r = Math.exp(refLogp[t] - lp[t]);
        klb += r - (refLogp[t] - lp[t]) - 1;
        w[t] = ((clipped ? 0 : rho * a) - h.beta * (1 - r)) / len;
      }
      kl += klb / len / B; // mean over the rollouts trained on
    }
    return w;
  };
  const params = [...policy.params.values()];
  zeroGrads(params);
  const tape = new Tape();
  const { loss } = policy.loss(tape, ids, targets, mask, B, T, { ceDenom: denom, weightsFrom });
  tape.backward(loss);
  const gradNorm = clipGradNorm(params, h.clip);
  opt.update(h.lr);
  updateBias(policy, 0); // routing biases stay as SFT left them; only reset the load counters
  return { kl, gradNorm, tokens: batch.tokens };
}

// ---- the loop ----

export interface GrpoLog {
  step: number;
  reward: number;
  accuracy: number;
  format: number;
  /** Mean completion length in tokens (EOS included). */
  length: number;
  /** null when no group had any signal and the update was skipped. */
  kl: number | null;
  gradNorm: number;
  /** Fraction of groups whose rewards were all equal (zero advantage, no learning signal). */
  flatGroups: number;
  /** Completion tokens sampled per second of step time (sampling + update). */
  tokPerS: number;
  sampleS: number;
  updateS: number;
}

export interface GrpoState {
  model: TinyV3;
  ref: TinyV3;
  opt: AdamW;
}

export function modelConfigOf(r: GrpoRecipe): TinyConfig {
  return defaultRecipe(JSON.parse(readFileSync(r.initRecipe, "utf8")) as Partial<Recipe>).model;
}

/** Policy and reference both loaded from the init checkpoint, with a fresh optimizer. */
export function newGrpoState(r: GrpoRecipe, cfg: TinyConfig = modelConfigOf(r)): GrpoState {
  const model = new TinyV3(cfg, r.seed);
  const ref = new TinyV3(cfg, r.seed);
  for (const m of [model, ref])
    if (!loadCheckpoint(r.init, m)) throw new Error(`GRPO init checkpoint ${r.init} not found`);
  return { model, ref, opt: recipeAdamW([...model.params.values()], r) };
}

/** One GRPO step: sample, score, normalise, update. `dir` is the scratch folder for the sampler's export. */
export async function grpoStep(st: GrpoState, r: GrpoRecipe, step: number, dir: string): Promise<GrpoLog> {
  const t0 = performance.now();
  const probs = stepPrompts(r, step);
  const rollouts = await sampleRollouts(
    st.model,
    dir,
    probs.map((p) => encode(promptText(p.a, p.b))),
    r.group,
    { maxTokens: r.maxTokens, temperature: r.temperature, seed: (r.seed * 100003 + step) % 2 ** 31 },
  );
  const scores = rollouts.map((ro, i) => {
    const p = probs[Math.floor(i / r.group)];
    return scoreText(ro.text, ro.stopped, answerOf(p.a, p.b), r.formatReward);
  });
  const A = groupAdvantages(
    scores.map((s) => s.reward),
    r.group,
  );
  const t1 = performance.now();
  const n = rollouts.length;
  const keep: number[] = [];
  let flat = 0;
  for (let g = 0; g < n; g += r.group) {
    const isFlat = A.slice(g, g + r.group).every((a) => a === 0);
    if (isFlat) flat++;
    if (!isFlat || !r.skipFlatGroups) for (let i = g; i < g + r.group; i++) keep.push(i);
  }
  const u = keep.length
    ? grpoUpdate(
        st.model,
        st.opt,
        st.ref,
        keep.map((i) => rollouts[i]),
        keep.map((i) => A[i]),
        { ...r, denom: n },
      )
    : { kl: null, gradNorm: 0, tokens: 0 };
  const t2 = performance.now();
  const sampled = rollouts.reduce((s, ro) => s + ro.completion.length, 0);
  return {
    step: step + 1,
    reward: scores.reduce((s, x) => s + x.reward, 0) / n,
    accuracy: scores.filter((x) => x.correct).length / n,
    format: scores.filter((x) => x.formatted).length / n,
    length: sampled / n,
    kl: u.kl,
    gradNorm: u.gradNorm,
    flatGroups: flat / (n / r.group),
    tokPerS: sampled / ((t2 - t0) / 1000),
    sampleS: (t1 - t0) / 1000,
    updateS: (t2 - t1) / 1000,
  };
}

export interface GrpoOptions {
  stopAt?: number;
  log?: (line: string) => void;
  shouldStop?: () => boolean;
}

/** Runs (or resumes) a GRPO recipe; returns the per-step logs of this process. */
export async function grpo(r: GrpoRecipe, opts: GrpoOptions = {}): Promise<GrpoLog[]> {
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  mkdirSync(r.out, { recursive: true });
  const ckptPath = join(r.out, "checkpoint.bin");
  const st = newGrpoState(r);
  const saved = loadCheckpoint(ckptPath, st.model, st.opt);
  let step = saved?.step ?? 0;
  // history rows: [step, reward, accuracy, format, length, kl]
  const history = saved?.history ?? [];
  log(saved ? `resumed ${r.name} from ${ckptPath} at step ${step}` : `${r.name}: GRPO from ${r.init}`);
  const end = Math.min(r.steps, opts.stopAt ?? r.steps);
  const dir = mkdtempSync(join(tmpdir(), "r1-grpo-"));
  const logs: GrpoLog[] = [];
  const checkpoint = () => {
    saveCheckpoint(ckptPath, st.model, st.opt, { step, history });
    const series = (name: string, k: number) => ({
      name,
      points: history.map((h) => [h[0], h[k]] as [number, number]),
    });
    writeFileSync(
      join(r.out, "reward.svg"),
      svgPlot([series("reward", 1), series("accuracy", 2), series("format", 3)], {
        title: `${r.name}: GRPO reward (per step, ${r.prompts}x${r.group} samples)`,
        xLabel: "step",
        yLabel: "mean over samples",
      }),
    );
  };
  try {
    while (step < end) {
      if (opts.shouldStop?.()) {
        if (step % r.ckptEvery !== 0) checkpoint(); // keep the steps since the last periodic checkpoint
        break;
      }
      const e = await grpoStep(st, r, step, dir);
      step++;
      logs.push(e);
      history.push([step, e.reward, e.accuracy, e.format, e.length, e.kl ?? Number.NaN]);
      if (step % r.logEvery === 0 || step === end) {
        appendFileSync(join(r.out, "log.jsonl"), `${JSON.stringify(e)}\n`);
        log(
          `step ${step}/${r.steps}  reward ${e.reward.toFixed(3)}  acc ${e.accuracy.toFixed(3)}  ` +
            `format ${e.format.toFixed(3)}  len ${e.length.toFixed(1)}  kl ${e.kl === null ? "-" : e.kl.toExponential(2)}  ` +
            `|g| ${e.gradNorm.toFixed(3)}  flat ${e.flatGroups.toFixed(2)}  ${e.tokPerS.toFixed(0)} tok/s  ` +
            `(sample ${e.sampleS.toFixed(1)}s, update ${e.updateS.toFixed(1)}s)`,
        );
      }
      if (step % r.ckptEvery === 0 || step === end) checkpoint();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return logs;
}

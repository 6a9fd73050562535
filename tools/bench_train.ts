// Training throughput of r1ts against PyTorch on the CPU, same model, same batches, in one run:
//   node dist/tools/bench_train.js [recipe.json] [steps] [--own-init]
// Draws the batches the trainer would draw for steps 0..steps-1 (same seed formula, same generator), times
// r1ts training steps on them (trainer.ts's own trainStep: forward loss on the tape, backward, clip, AdamW,
// bias update), then hands the same
// batches, learning rates, optimizer settings and (unless --own-init) r1ts's initial weights to
// tools/torch_tiny_v3.py at 1 and 2 threads. The first 2 steps of each engine are warm-up and are not timed.
// Batch building is outside the timed region on both sides. FP8 recipes are run in FP32 (the PyTorch twin is FP32).

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { Batch } from "../src/train/data/arith.js";
import { lrAt } from "../src/train/optim.js";
import { defaultRecipe, newTrainState, type Recipe, scheduleOf, stepBatch, trainStep } from "../src/train/trainer.js";

const WARMUP = 2;
const THREADS = [1, 2];
const PY_SCRIPT = "tools/torch_tiny_v3.py";

interface Result {
  engine: string;
  threads: string;
  tokensPerS: number;
  stepMs: number;
  params: number;
  lossFirst: number;
  lossLast: number;
  /** Cross-entropy of every step, warm-up included. */
  losses: number[];
}

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const ownInit = process.argv.includes("--own-init");
const recipePath = args[0] ?? "recipes/r1-tiny.json";
const steps = Number(args[1] ?? 20);
if (!Number.isInteger(steps) || steps <= WARMUP) {
  console.error(`steps must be an integer > ${WARMUP}`);
  process.exit(2);
}
// FP8 recipes run in FP32: the PyTorch twin is FP32.
const recipe = { ...defaultRecipe(JSON.parse(readFileSync(recipePath, "utf8")) as Partial<Recipe>), fp8: false };

/** An interpreter that can import torch: $PYTHON, else python3 on PATH, else Debian's (pyenv shims hide it). */
function findPython(): { exe: string; version: string } | null {
  const tried = [process.env.PYTHON, "python3", "/usr/bin/python3"].filter((x): x is string => !!x);
  for (const exe of tried) {
    const r = spawnSync(exe, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
    if (r.status === 0) return { exe, version: r.stdout.trim() };
  }
  return null;
}

/** r1ts: the per-step body of train() on prebuilt batches; returns the result and the initial weights. */
function runR1ts(batches: Batch[], lrs: number[]): { res: Result; init: Record<string, number[]> } {
  const st = newTrainState(recipe);
  const { model, params } = st;
  const init: Record<string, number[]> = {};
  for (const p of params) init[p.name] = Array.from(p.data);
  const losses: number[] = [];
  let tokens = 0;
  let t0 = performance.now();
  batches.forEach((batch, step) => {
    if (step === WARMUP) {
      t0 = performance.now();
      tokens = 0;
    }
    losses.push(trainStep(st, recipe, batch, lrs[step]).ce);
    tokens += batch.B * batch.T;
  });
  const sec = (performance.now() - t0) / 1000;
  const res: Result = {
    engine: "r1ts",
    threads: "1 (single-threaded JS)",
    tokensPerS: tokens / sec,
    stepMs: (1000 * sec) / (steps - WARMUP),
    params: model.paramCount().total,
    lossFirst: losses[0],
    lossLast: losses[losses.length - 1],
    losses,
  };
  return { res, init };
}

/** One PyTorch run at `threads` threads on the job file; its last stdout line is the result JSON. */
function runTorch(exe: string, file: string, threads: number, version: string): Result {
  const r = spawnSync(exe, [PY_SCRIPT, file, String(threads)], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.error(r.stderr || r.stdout);
    console.error(`${exe} ${PY_SCRIPT} failed (exit ${r.status})`);
    process.exit(1);
  }
  const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
  return { engine: `PyTorch ${version}`, threads: String(threads), ...out };
}

const py = findPython();
if (!py) {
  console.error(
    "error: no python3 that can `import torch` (tried $PYTHON, python3, /usr/bin/python3).\n" +
      "Install PyTorch from Debian:  apt-get install python3-torch   (or set PYTHON=/path/to/python3 with torch)",
  );
  process.exit(1);
}

const batches = Array.from({ length: steps }, (_, s) => stepBatch(recipe, s));
const sched = scheduleOf(recipe);
const lrs = batches.map((_, s) => lrAt(sched, s));
const Ts = batches.map((b) => b.T);
const { res: ours, init } = runR1ts(batches, lrs);

const dir = mkdtempSync(join(tmpdir(), "bench-train-"));
const file = join(dir, "job.json");
writeFileSync(
  file,
  JSON.stringify({
    config: recipe.model,
    batches: batches.map((b) => ({
      ids: Array.from(b.ids),
      targets: Array.from(b.targets),
      mask: Array.from(b.mask),
      B: b.B,
      T: b.T,
    })),
    steps,
    lr: recipe.lr,
    lrs,
    seed: recipe.seed,
    optim: {
      beta1: 0.9,
      beta2: recipe.beta2,
      eps: 1e-8,
      weightDecay: recipe.weightDecay,
      clip: recipe.clip,
      biasGamma: recipe.biasGamma,
      seqAux: recipe.seqAux,
    },
    ...(ownInit ? {} : { init }),
  }),
);
const rows = [ours, ...THREADS.map((t) => runTorch(py.exe, file, t, py.version))];
rmSync(dir, { recursive: true, force: true });

const f = (x: number, d: number) => x.toFixed(d);
console.log(
  `\n${recipe.name} (${recipePath}): batch ${recipe.batch}, T ${Math.min(...Ts)}-${Math.max(...Ts)} ` +
    `(mean ${f(Ts.reduce((a, b) => a + b, 0) / Ts.length, 1)}), ${steps} steps (${WARMUP} warm-up, ` +
    `${steps - WARMUP} timed), FP32, ${ownInit ? "independent inits" : "PyTorch starts from r1ts's initial weights"}`,
);
console.log(
  `node ${process.version}, ${py.exe} (torch ${py.version}), ${cpus().length} CPUs: ${cpus()[0]?.model ?? "?"}\n`,
);
console.log("| engine | threads | tokens/s | ms/step | ratio r1ts/PyTorch | params | first / last loss |");
console.log("|---|---|---:|---:|---:|---:|---|");
for (const r of rows) {
  const ratio = r === ours ? "-" : `${f(ours.tokensPerS / r.tokensPerS, 2)}x`;
  console.log(
    `| ${r.engine} | ${r.threads} | ${f(r.tokensPerS, 0)} | ${f(r.stepMs, 1)} | ${ratio} | ${r.params} | ` +
      `${f(r.lossFirst, 5)} / ${f(r.lossLast, 5)} |`,
  );
}
// Same init and same batches: the loss curves should agree to float rounding (summation order, libm).
console.log(ownInit ? "\nindependent inits: losses agree only in ballpark" : "");
for (const r of rows.slice(1)) {
  const d = Math.max(...r.losses.map((l, i) => Math.abs(l - ours.losses[i])));
  console.log(
    `${r.engine} at ${r.threads} thread(s): max |loss - r1ts loss| over ${steps} steps = ${d.toExponential(2)}`,
  );
}
if (rows.some((r) => r.params !== ours.params)) console.log("\nwarning: parameter counts differ between the engines");
console.log("\ntokens/s counts padded batch tokens (B x T), as the trainer's tok/s does.");

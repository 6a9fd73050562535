// `npm run experiments`: reruns the trainer experiments of docs/experiments.md from scratch and prints their
// tables. Each recipe trains into runs/experiments/<name> (deleted first, unless --resume), then the plots are
// redrawn into docs/. The shipped model's own training (hours on two cores) is not part of it; docs/experiments.md
// lists its commands.
//   node dist/tools/experiments.js [--resume] [balance] [fp8] [fp8text] [fp8textlr] [cmp] [fp8branch]
// (cmp, distillation versus GRPO, is in experiments_cmp.ts; fp8branch, FP8 from a shared FP32 trunk, is in
// experiments_branch.ts. Both run only when named. Timings: docs/experiments.md and README.)
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { svgPlot } from "../src/train/plot.js";
import { defaultRecipe, heldOutLoss, type Recipe, readRunLog, type StepLog, train } from "../src/train/trainer.js";
import { fp8Branch } from "./experiments_branch.js";
import { distillVsGrpo } from "./experiments_cmp.js";
import { ciText, FP8_VARIANTS, mean, meanSeText, pct, recipeJson } from "./experiments_common.js";

/**
 * The FP8 studies behind the fp8 curves: every seed trains each variant from `base` (seed, precision and lr
 * overridden) into runs/experiments/<prefix>-<variant>-s<seed>, and each run is scored by heldOutLoss on the
 * same 256 held-out examples. The group's recipes <stem>-fp32 / <stem>-fp8 (base is <stem>-fp8) are the
 * study's seed-1 "fp32" and "fp8" runs (their curves are the plot), so they are not trained twice.
 */
interface Study {
  base: string;
  prefix: string;
  variants: string[];
}

/** Plots go to docs/<plot>-loss.svg (and -maxvio.svg), the names docs/experiments.md shows. */
const GROUPS: Record<string, { recipes: string[]; title: string; plot: string; study?: Study }> = {
  balance: {
    recipes: ["balance-auxfree-fast", "balance-auxfree", "balance-auxloss", "balance-none"],
    title: "Expert balance: aux-loss-free (two gammas) vs a sequence-wise aux loss vs none, 300 steps",
    plot: "balance",
  },
  fp8: {
    recipes: ["fp8-compare-fp32", "fp8-compare-fp8"],
    title: "FP8 vs FP32, same model and data",
    plot: "fp8-compare",
    // FP32, full FP8, and FP8 on one GEMM only: the ablation that finds which quantized input costs loss
    study: {
      base: "fp8-compare-fp8",
      prefix: "fp8-study",
      variants: ["fp32", "fp8", "fp8-forward", "fp8-dgrad", "fp8-wgrad"],
    },
  },
  fp8text: {
    recipes: ["fp8-text-fp32", "fp8-text-fp8"],
    title: "FP8 vs FP32 on character-level language modelling (GSM8K text), same model and data",
    plot: "fp8-text",
    // R1TS_FP8_VARIANTS=fp32,fp8,fp8-forward,... adds the per-GEMM ablation
    study: {
      base: "fp8-text-fp8",
      prefix: "fp8-text-study",
      variants: (process.env.R1TS_FP8_VARIANTS ?? "fp32,fp8,fp32-nudged").split(","),
    },
  },
  // The same study at lr 1e-3 (session 9): at 4e-3 chaos alone moves a twin run's final loss by up to 1.3%, at
  // 1e-3 by up to 0.4% (session 10: eight seeds resolve FP8's whole-run cost, +0.23% ± 0.09%).
  fp8textlr: {
    recipes: ["fp8-text-lr1-fp32", "fp8-text-lr1-fp8"],
    title: "FP8 vs FP32 on character-level language modelling at lr 1e-3, same model and data",
    plot: "fp8-text-lr1",
    study: { base: "fp8-text-lr1-fp8", prefix: "fp8-text-lr1-study", variants: ["fp32", "fp8", "fp32-nudged"] },
  },
};

const FP8_SEEDS = (process.env.R1TS_FP8_SEEDS ?? "1,2,3").split(",").map(Number);

const args = process.argv.slice(2);
const resume = args.includes("--resume");
const groups = args.filter((a) => a in GROUPS);
const cmp = args.includes("cmp");
const branch = args.includes("fp8branch");
const root = join("runs", "experiments");

/** Trains r into runs/experiments/<name> (fresh unless --resume) and scores it on the held-out set. */
function run(r: Recipe, name: string): { log: StepLog[]; heldOut: number } {
  r.out = join(root, name);
  delete r.export;
  if (!resume && existsSync(r.out)) rmSync(r.out, { recursive: true });
  const { model } = train(r, { log: (l) => process.stderr.write(`${name}: ${l}\n`) });
  return { log: readRunLog<StepLog>(join(r.out, "log.jsonl")), heldOut: heldOutLoss(model, r) };
}

/** An FP8 study's table: held-out loss per variant and seed, and each variant's gap to FP32 of its seed. */
function fp8Study({ base: baseName, prefix, variants }: Study, seed1: Map<string, number>): void {
  const base = recipeJson(baseName);
  // Seed by seed, so that a cut-short study has whole seeds.
  const vs = FP8_VARIANTS.filter((v) => variants.includes(v.name));
  const loss = new Map<string, number[]>(vs.map((v) => [v.name, []]));
  for (const seed of FP8_SEEDS)
    for (const v of vs) {
      const known = seed === 1 ? seed1.get(v.name) : undefined;
      const fresh = () =>
        run(
          defaultRecipe({ ...base, seed, fp8: v.fp8, fp8Gemms: v.fp8Gemms, lr: base.lr! * (v.lrScale ?? 1) }),
          `${prefix}-${v.name}-s${seed}`,
        );
      loss.get(v.name)!.push(known ?? fresh().heldOut);
    }
  const f32 = loss.get("fp32")!;
  console.log(`\nHeld-out loss (256 examples) after ${base.steps} steps, seeds ${FP8_SEEDS.join(", ")}:\n`);
  const seedCols = FP8_SEEDS.map((s) => `seed ${s}`).join(" | ");
  console.log(`| run | ${seedCols} | mean | gap to FP32 per seed | mean gap ± SE | 95% interval |`);
  console.log(`|---|${FP8_SEEDS.map(() => "---|").join("")}---|---|---|---|`);
  for (const [name, row] of loss) {
    const gaps = row.map((x, i) => x / f32[i] - 1);
    console.log(
      `| ${name} | ${row.map((x) => x.toFixed(4)).join(" | ")} | ${mean(row).toFixed(4)} | ` +
        `${gaps.map((g) => pct(g)).join(", ")} | ${meanSeText(gaps)} | ` +
        `${name === "fp32" ? "-" : ciText(gaps)} |`,
    );
  }
  // Seed-to-seed spread of FP32 itself: the noise a single-seed gap must beat.
  console.log(`\nFP32 seed-to-seed spread: ${pct(Math.max(...f32) / Math.min(...f32) - 1)} (max / min - 1)`);
}

for (const g of groups.length || cmp || branch ? groups : Object.keys(GROUPS)) {
  const { recipes, title, plot, study } = GROUPS[g];
  console.log(`\n## ${title}\n`);
  const logs: { name: string; log: StepLog[]; heldOut: number }[] = [];
  for (const name of recipes) {
    const r = defaultRecipe(recipeJson(name));
    logs.push({ name, ...run(r, name) });
  }
  console.log(
    "| run | held-out loss | final-window loss | loss, last 5 windows | MaxVio per step | MaxVio per window | tokens/s |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const { name, log, heldOut } of logs) {
    const tail = log.slice(-5);
    console.log(
      `| ${name} | ${heldOut.toFixed(4)} | ${log.at(-1)!.loss.toFixed(4)} | ${mean(tail.map((e) => e.loss)).toFixed(4)} | ` +
        `${mean(tail.map((e) => e.maxVio)).toFixed(3)} | ${mean(tail.map((e) => e.maxVioWindow ?? Number.NaN)).toFixed(3)} | ` +
        `${log.at(-1)!.tokPerS.toFixed(0)} |`,
    );
  }
  const fields: [keyof StepLog, string, boolean][] = [["loss", "loss (nats/token)", true]];
  if (g === "balance") fields.push(["maxVioWindow", "MaxVio over the log window", false]);
  for (const [field, yLabel, logY] of fields) {
    const out = join("docs", `${plot}-${field === "loss" ? "loss" : "maxvio"}.svg`);
    const series = logs.map(({ name, log }) => ({
      name,
      points: log.map((e) => [e.step, e[field] as number] as [number, number]),
    }));
    writeFileSync(out, svgPlot(series, { title: `${g}: ${yLabel}`, xLabel: "step", yLabel, logY }));
    console.log(`\nwrote ${out}`);
  }
  if (study) {
    const stem = study.base.replace(/fp8$/, "");
    fp8Study(study, new Map(logs.map((l) => [l.name.replace(stem, ""), l.heldOut])));
  }
}
if (cmp) await distillVsGrpo(root, resume);
if (branch) fp8Branch(root, resume, FP8_SEEDS, Number(process.env.R1TS_BRANCH_AT ?? 750));

// `npm run experiments`: reruns the trainer experiments of docs/experiments.md from scratch and prints their
// tables. Each recipe trains into runs/experiments/<name> (deleted first, unless --resume), then the plots are
// redrawn into docs/. The shipped model's own training (hours on two cores) is not part of it; docs/experiments.md
// lists its commands.
//   node dist/tools/experiments.js [--resume] [balance] [fp8]
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { svgPlot } from "../src/train/plot.js";
import { defaultRecipe, type Recipe, readRunLog, type StepLog, train } from "../src/train/trainer.js";

/** Plots go to docs/<plot>-loss.svg (and -maxvio.svg), the names docs/experiments.md shows. */
const GROUPS: Record<string, { recipes: string[]; title: string; plot: string }> = {
  balance: {
    recipes: ["balance-auxfree-fast", "balance-auxfree", "balance-auxloss", "balance-none"],
    title: "Expert balance: aux-loss-free (two gammas) vs a sequence-wise aux loss vs none, 300 steps",
    plot: "balance",
  },
  fp8: {
    recipes: ["fp8-compare-fp32", "fp8-compare-fp8"],
    title: "FP8 vs FP32, same model and data",
    plot: "fp8-compare",
  },
};

const args = process.argv.slice(2);
const resume = args.includes("--resume");
const groups = args.filter((a) => a in GROUPS);
const root = join("runs", "experiments");

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

for (const g of groups.length ? groups : Object.keys(GROUPS)) {
  const { recipes, title, plot } = GROUPS[g];
  console.log(`\n## ${title}\n`);
  const logs: { name: string; log: StepLog[] }[] = [];
  for (const name of recipes) {
    const r = defaultRecipe(JSON.parse(readFileSync(join("recipes", `${name}.json`), "utf8")) as Partial<Recipe>);
    r.out = join(root, name);
    delete r.export;
    if (!resume && existsSync(r.out)) rmSync(r.out, { recursive: true });
    train(r, { log: (l) => process.stderr.write(`${name}: ${l}\n`) });
    logs.push({ name, log: readRunLog<StepLog>(join(r.out, "log.jsonl")) });
  }
  console.log("| run | final-window loss | loss, last 5 windows | MaxVio per step | MaxVio per window | tokens/s |");
  console.log("|---|---|---|---|---|---|");
  for (const { name, log } of logs) {
    const tail = log.slice(-5);
    console.log(
      `| ${name} | ${log.at(-1)!.loss.toFixed(4)} | ${mean(tail.map((e) => e.loss)).toFixed(4)} | ` +
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
}

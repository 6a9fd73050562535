// Curves of several runs in one SVG, from their log.jsonl files (loss by default, or any numeric field):
// node dist/tools/train_plot.js OUT.svg "title" [--field maxVioWindow] name=runs/X/log.jsonl [name=...]
import { readFileSync, writeFileSync } from "node:fs";
import { svgPlot } from "../src/train/plot.js";

const LABELS: Record<string, string> = {
  loss: "loss (nats/token)",
  maxVio: "MaxVio per step",
  maxVioWindow: "MaxVio over the log window",
};
const [out, title, ...rest] = process.argv.slice(2);
let field = "loss";
const fi = rest.indexOf("--field");
if (fi >= 0) [field] = rest.splice(fi, 2).slice(1);
const series = rest.map((s) => {
  const i = s.lastIndexOf("="); // the name may hold "=" (γ=0.01), the path does not
  const points = readFileSync(s.slice(i + 1), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, number>)
    .filter((e) => typeof e[field] === "number")
    .map((e) => [e.step, e[field]] as [number, number]);
  // A resumed run logs the steps after its checkpoint again: keep the last entry per step.
  const byStep = new Map(points.map((p) => [p[0], p]));
  return { name: s.slice(0, i), points: [...byStep.values()].sort((a, b) => a[0] - b[0]) };
});
writeFileSync(out, svgPlot(series, { title, xLabel: "step", yLabel: LABELS[field] ?? field, logY: field === "loss" }));
console.log(`wrote ${out}`);

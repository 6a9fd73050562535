// Loss curves of several runs in one SVG, from their log.jsonl files:
// node dist/tools/train_plot.js OUT.svg "title" name=runs/X/log.jsonl [name=runs/Y/log.jsonl ...]
import { readFileSync, writeFileSync } from "node:fs";
import { svgPlot } from "../src/train/plot.js";

const [out, title, ...specs] = process.argv.slice(2);
const series = specs.map((s) => {
  const i = s.indexOf("=");
  const points = readFileSync(s.slice(i + 1), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { step: number; loss: number })
    .map((e) => [e.step, e.loss] as [number, number]);
  // A resumed run logs the steps after its checkpoint again: keep the last entry per step.
  const byStep = new Map(points.map((p) => [p[0], p]));
  return { name: s.slice(0, i), points: [...byStep.values()].sort((a, b) => a[0] - b[0]) };
});
writeFileSync(out, svgPlot(series, { title, xLabel: "step", yLabel: "loss (nats/token)", logY: true }));
console.log(`wrote ${out}`);

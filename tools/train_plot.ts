// Curves of several runs in one SVG, from their log.jsonl files (loss by default, or any numeric field):
// node dist/tools/train_plot.js OUT.svg "title" [--field maxVioWindow] name=runs/X/log.jsonl [name=...]
import { writeFileSync } from "node:fs";
import { svgPlot } from "../src/train/plot.js";
import { readRunLog } from "../src/train/trainer.js";

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
  const points = readRunLog<{ step: number } & Record<string, number>>(s.slice(i + 1))
    .filter((e) => typeof e[field] === "number")
    .map((e) => [e.step, e[field]] as [number, number]);
  return { name: s.slice(0, i), points };
});
writeFileSync(out, svgPlot(series, { title, xLabel: "step", yLabel: LABELS[field] ?? field, logY: field === "loss" }));
console.log(`wrote ${out}`);

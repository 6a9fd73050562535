// What the experiment scripts (experiments.ts, experiments_branch.ts, experiments_cmp.ts) share: recipe files,
// the FP8 study's variants, and the numbers their tables print.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Fp8Gemm } from "../src/train/precision.js";
import type { Recipe } from "../src/train/trainer.js";

/** recipes/<name>.json, unvalidated (the default*Recipe functions fill and check it). */
export const recipeJson = <T = Recipe>(name: string) =>
  JSON.parse(readFileSync(join("recipes", `${name}.json`), "utf8")) as Partial<T>;

export interface Fp8Variant {
  name: string;
  fp8: boolean;
  fp8Gemms?: Fp8Gemm[];
  lrScale?: number;
}

export const FP8_VARIANTS: Fp8Variant[] = [
  { name: "fp32", fp8: false },
  // The noise floor: FP32 with lr x (1 + 1e-4), a nudge with no measurable effect of its own that still sends
  // the run down another trajectory, as FP8's rounding does. A precision gap smaller than this one is noise.
  { name: "fp32-nudged", fp8: false, lrScale: 1 + 1e-4 },
  { name: "fp8", fp8: true },
  { name: "fp8-forward", fp8: true, fp8Gemms: ["forward"] },
  { name: "fp8-dgrad", fp8: true, fp8Gemms: ["dgrad"] },
  { name: "fp8-wgrad", fp8: true, fp8Gemms: ["wgrad"] },
];

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Standard error of the mean (sample standard deviation / sqrt n). */
export const sem = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) / xs.length);
};

// Two-sided 95% critical values of Student's t for 1..30 degrees of freedom (beyond 30, 2.0 is within 2%).
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The 95% t-interval of the mean of xs (at least two values): [mean - t*SE, mean + t*SE]. */
const ci95 = (xs: number[]): [number, number] => {
  const h = (T95[xs.length - 2] ?? 2.0) * sem(xs);
  return [mean(xs) - h, mean(xs) + h];
};

/** The 95% interval of the mean gap as table text ("+0.02% to +0.44%"), "-" for fewer than two gaps. */
export const ciText = (gaps: number[], digits = 2) =>
  gaps.length < 2
    ? "-"
    : ci95(gaps)
        .map((g) => pct(g, digits))
        .join(" to ");

/** The mean gap as table text ("+0.23% ± 0.09%", SE; the mean alone for one gap). */
export const meanSeText = (gaps: number[], digits = 2) =>
  `${pct(mean(gaps), digits)}${gaps.length > 1 ? ` ± ${pct(sem(gaps), digits).slice(1)}` : ""}`;

/** A relative gap as a signed percentage: 0.00153 -> "+0.15%". */
export const pct = (x: number, digits = 2) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(digits)}%`;

// Confidence intervals for accuracies. Wilson's score interval for a proportion over independent items
// (one sample each); a percentile bootstrap over items when each item's score is an average of K samples
// (pass@1 with K > 1), since samples of one item are not independent.

import { Rng } from "../generate/sampling.js";

export interface Interval {
  lo: number;
  hi: number;
  method: "wilson" | "bootstrap";
}

const Z95 = 1.959963984540054;

/** Wilson 95% interval for `correct` successes out of `n`. */
export function wilson(correct: number, n: number): Interval {
  if (n === 0) return { lo: 0, hi: 1, method: "wilson" };
  const p = correct / n;
  const z2 = Z95 * Z95;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half), method: "wilson" };
}

/** Percentile bootstrap 95% interval of the mean of `xs` (seeded, so reports are reproducible). */
export function bootstrap(xs: number[], resamples = 2000, seed = 0): Interval {
  const n = xs.length;
  if (n === 0) return { lo: 0, hi: 1, method: "bootstrap" };
  const rng = new Rng(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[Math.floor(rng.nextFloat() * n)];
    means[r] = s / n;
  }
  means.sort();
  return {
    lo: means[Math.floor(0.025 * (resamples - 1))],
    hi: means[Math.ceil(0.975 * (resamples - 1))],
    method: "bootstrap",
  };
}

/** Mean of per-item scores with the right interval: Wilson when all are 0/1, else bootstrap. */
export function meanWithInterval(perItem: number[]): { mean: number; ci95: Interval } {
  const n = perItem.length;
  const sum = perItem.reduce((a, b) => a + b, 0);
  const binary = perItem.every((x) => x === 0 || x === 1);
  return { mean: n ? sum / n : 0, ci95: binary ? wilson(sum, n) : bootstrap(perItem) };
}

export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (i - lo);
}

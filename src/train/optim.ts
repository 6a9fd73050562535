// AdamW (decoupled weight decay, Loshchilov & Hutter), global-norm gradient clipping, and the learning-rate
// schedule: linear warmup, then cosine decay to a floor. V3 used beta1 0.9, beta2 0.95, weight decay 0.1, clip 1.0.

import type { Param } from "./autograd.js";

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** The AdamW every run here uses: beta1 0.9, eps 1e-8, and the recipe's lr, beta2 and weight decay. */
export function recipeAdamW(params: Param[], r: { lr: number; beta2: number; weightDecay: number }): AdamW {
  return new AdamW(params, { lr: r.lr, beta1: 0.9, beta2: r.beta2, eps: 1e-8, weightDecay: r.weightDecay });
}

export class AdamW {
  step = 0;
  readonly m = new Map<string, Float32Array>();
  readonly v = new Map<string, Float32Array>();

  constructor(
    readonly params: Param[],
    readonly cfg: AdamConfig,
  ) {
    for (const p of params) {
      this.m.set(p.name, new Float32Array(p.data.length));
      this.v.set(p.name, new Float32Array(p.data.length));
    }
  }

  /** One update at learning rate lr; norms and 1-D gains are not decayed. */
  update(lr: number): void {
    this.step++;
    const { beta1: b1, beta2: b2, eps, weightDecay } = this.cfg;
    const c1 = 1 - b1 ** this.step;
    const c2 = 1 - b2 ** this.step;
    for (const p of this.params) {
      const m = this.m.get(p.name)!;
      const v = this.v.get(p.name)!;
      const g = p.g();
      const wd = p.shape.length > 1 ? weightDecay : 0;
      const d = p.data;
      for (let i = 0; i < d.length; i++) {
        const gi = g[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        d[i] -= lr * (m[i] / c1 / (Math.sqrt(v[i] / c2) + eps) + wd * d[i]);
      }
    }
  }
}

export function zeroGrads(params: Param[]): void {
  for (const p of params) p.g().fill(0);
}

/** Scales all gradients so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Param[], maxNorm: number): number {
  let ss = 0;
  for (const p of params) {
    const g = p.g();
    for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  }
  const norm = Math.sqrt(ss);
  if (maxNorm > 0 && norm > maxNorm) {
    const s = maxNorm / (norm + 1e-12);
    for (const p of params) {
      const g = p.g();
      for (let i = 0; i < g.length; i++) g[i] *= s;
    }
  }
  return norm;
}

export interface Schedule {
  lr: number;
  warmup: number;
  steps: number;
  /** Final learning rate as a fraction of lr. */
  minRatio: number;
}

/** Linear warmup over `warmup` steps, then cosine from lr to lr * minRatio at `steps`. */
export function lrAt(s: Schedule, step: number): number {
  if (step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  const t = Math.min(1, (step - s.warmup) / Math.max(1, s.steps - s.warmup));
  const min = s.lr * s.minRatio;
  return min + 0.5 * (s.lr - min) * (1 + Math.cos(Math.PI * t));
}

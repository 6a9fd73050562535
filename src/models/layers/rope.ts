// Rotary position tables: inverse frequencies per rotated pair (with YaRN / llama3 / linear scaling), and
// cos/sin rows [T, dim/2] for a run of positions. The math follows HF's DeepseekV3YarnRotaryEmbedding and
// DeepSeek's inference/model.py precompute_freqs_cis (they agree), and Llama 3.1's _compute_llama3_parameters.

import type { RopeConfig } from "../config.js";

export function yarnMscale(factor: number, mscale: number): number {
  return factor <= 1 ? 1 : 0.1 * mscale * Math.log(factor) + 1;
}

export interface RopeTables {
  invFreq: Float64Array;
  /** Multiplies cos and sin (YaRN's mscale ratio; 1 for V3/R1). */
  magnitude: number;
}

export function ropeTables(rope: RopeConfig): RopeTables {
  const half = rope.dim / 2;
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = 1 / rope.theta ** ((2 * i) / rope.dim);
  let magnitude = 1;
  const s = rope.scaling;
  if (s?.type === "linear") {
    for (let i = 0; i < half; i++) invFreq[i] /= s.factor;
  } else if (s?.type === "yarn") {
    // Dims rotating fewer than beta_slow times over the original context are interpolated (divided by factor),
    // dims rotating more than beta_fast times are kept, with a linear ramp between.
    const corr = (rot: number) =>
      (rope.dim * Math.log(s.originalMaxPos / (rot * 2 * Math.PI))) / (2 * Math.log(rope.theta));
    const low = Math.max(Math.floor(corr(s.betaFast)), 0);
    let high = Math.min(Math.ceil(corr(s.betaSlow)), rope.dim - 1);
    if (high === low) high += 0.001;
    for (let i = 0; i < half; i++) {
      const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
      invFreq[i] = (invFreq[i] / s.factor) * ramp + invFreq[i] * (1 - ramp);
    }
    magnitude = yarnMscale(s.factor, s.mscale) / yarnMscale(s.factor, s.mscaleAllDim);
  } else if (s?.type === "llama3") {
    const lowWavelen = s.originalMaxPos / s.lowFreqFactor;
    const highWavelen = s.originalMaxPos / s.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / invFreq[i];
      if (wavelen > lowWavelen) invFreq[i] /= s.factor;
      else if (wavelen >= highWavelen) {
        const smooth = (s.originalMaxPos / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        invFreq[i] = (1 - smooth) * (invFreq[i] / s.factor) + smooth * invFreq[i];
      }
    }
  }
  if (rope.freqFactors) for (let i = 0; i < half; i++) invFreq[i] /= rope.freqFactors[i];
  return { invFreq, magnitude };
}

/** cos/sin [T, dim/2] for positions pos0..pos0+T-1, angles in f32 as the oracles compute them. */
export function ropeAngles(t: RopeTables, pos0: number, T: number, cos: Float32Array, sin: Float32Array): void {
  const half = t.invFreq.length;
  for (let k = 0; k < T; k++) {
    for (let i = 0; i < half; i++) {
      const a = Math.fround((pos0 + k) * Math.fround(t.invFreq[i]));
      cos[k * half + i] = Math.cos(a) * t.magnitude;
      sin[k * half + i] = Math.sin(a) * t.magnitude;
    }
  }
}

// DeepSeekMoE: shared experts on every token plus top-k routed experts chosen by a gate. Routing follows
// DeepSeek-V3 (inference/model.py Gate; HF noaux_tc): sigmoid (or softmax) scores; the correction bias is added
// for *selection only*; group-limited top-k keeps the topk_group groups with the best group score (sum of the
// top-2 biased scores, or the max without bias); gate weights are the unbiased scores of the chosen experts,
// normalized when norm_topk_prob, times routed_scaling_factor.

import type { FfnWeights, Kernels } from "../../kernels/kernels.js";
import type { Weight } from "../../kernels/weight.js";
import type { DeepseekV3Config } from "../config.js";

export interface MoeWeights {
  router: Weight; // [E, hidden]
  bias?: Float32Array; // [E] e_score_correction_bias
  experts: FfnWeights[]; // E routed experts, inter = moe_intermediate_size
  shared?: FfnWeights; // inter = moe_intermediate_size * n_shared_experts
}

export interface Route {
  experts: Int32Array; // [topK]
  weights: Float64Array; // [topK]
}

/** Indices of the k largest values (ties to the lower index). */
function topk(v: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: v.length }, (_, i) => i);
  idx.sort((a, b) => v[b] - v[a] || a - b);
  return idx.slice(0, k);
}

/** Routing for one token from its gate logits [E]. */
export function route(c: DeepseekV3Config, logits: ArrayLike<number>, bias?: Float32Array): Route {
  const E = logits.length;
  const scores = new Float64Array(E);
  if (c.scoring === "sigmoid") for (let e = 0; e < E; e++) scores[e] = 1 / (1 + Math.exp(-logits[e]));
  else {
    let max = Number.NEGATIVE_INFINITY;
    for (let e = 0; e < E; e++) max = Math.max(max, logits[e]);
    let sum = 0;
    for (let e = 0; e < E; e++) sum += scores[e] = Math.exp(logits[e] - max);
    for (let e = 0; e < E; e++) scores[e] /= sum;
  }
  const choice = Float64Array.from(scores, (s, e) => (bias ? s + bias[e] : s));
  if (c.nGroup > 1) {
    const per = E / c.nGroup;
    const groupScore = new Float64Array(c.nGroup);
    for (let g = 0; g < c.nGroup; g++) {
      const grp = choice.subarray(g * per, (g + 1) * per);
      if (bias) {
        const best = topk(grp, 2);
        groupScore[g] = best.reduce((a, i) => a + grp[i], 0);
      } else groupScore[g] = Math.max(...grp);
    }
    const keep = new Set(topk(groupScore, c.topkGroup));
    for (let e = 0; e < E; e++) if (!keep.has(Math.floor(e / per))) choice[e] = Number.NEGATIVE_INFINITY;
  }
  const chosen = topk(choice, c.topK);
  const weights = Float64Array.from(chosen, (e) => scores[e]);
  // Normalized at every k, as DeepSeek's inference/model.py (sigmoid case) and llama.cpp (expert_weights_norm)
  // do; HF's remote modeling_deepseek.py skips it at top_k = 1, where the weight is then the bare score. Only a
  // top-1 model tells them apart (r1ts's own trainer exports some), and it trains with the normalized weight.
  if (c.normTopkProb) {
    const sum = weights.reduce((a, b) => a + b, 0) + 1e-20;
    for (let i = 0; i < weights.length; i++) weights[i] /= sum;
  }
  for (let i = 0; i < weights.length; i++) weights[i] *= c.routedScalingFactor;
  return { experts: Int32Array.from(chosen), weights };
}

/** out[T, hidden] = MoE(h[T, hidden]); reads only the experts some token selected. */
export function moeFfn(
  k: Kernels,
  w: MoeWeights,
  c: DeepseekV3Config,
  h: Float32Array,
  T: number,
  out: Float32Array,
): void {
  const { hidden, nRoutedExperts: E } = c;
  const logits = new Float32Array(T * E);
  k.matmul(logits, h, w.router, T);
  // Group tokens by expert so each chosen expert's weights are read once per forward call.
  const byExpert: { t: number; w: number }[][] = Array.from({ length: E }, () => []);
  for (let t = 0; t < T; t++) {
    const r = route(c, logits.subarray(t * E, (t + 1) * E), w.bias);
    for (let i = 0; i < r.experts.length; i++) byExpert[r.experts[i]].push({ t, w: r.weights[i] });
  }
  out.fill(0, 0, T * hidden);
  for (let e = 0; e < E; e++) {
    const list = byExpert[e];
    if (list.length === 0) continue;
    const n = list.length;
    const xin = new Float32Array(n * hidden);
    list.forEach(({ t }, i) => {
      xin.set(h.subarray(t * hidden, (t + 1) * hidden), i * hidden);
    });
    const y = new Float32Array(n * hidden);
    k.ffn(y, xin, w.experts[e], n);
    list.forEach(({ t, w: gw }, i) => {
      for (let d = 0; d < hidden; d++) out[t * hidden + d] += gw * y[i * hidden + d];
    });
  }
  if (w.shared) {
    const y = new Float32Array(T * hidden);
    k.ffn(y, h, w.shared, T);
    for (let i = 0; i < T * hidden; i++) out[i] += y[i];
  }
}

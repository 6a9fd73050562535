// The DeepSeek-V3 architecture at training scale, on the autograd tape: MLA (naive form: K and V expanded from
// the latent, which is what the runtime's absorbed form computes), a dense SwiGLU first layer, then DeepSeekMoE
// layers (shared expert + fine-grained routed experts, sigmoid gates, per-expert selection bias updated
// without an auxiliary loss, optional sequence-wise balance loss). Parameter names are the HF tensor names, so
// export is a rename-free walk; the math matches src/models/deepseek_v3.ts (same RoPE tables, same routing).

import { type RopeTables, ropeAngles, ropeTables } from "../models/layers/rope.js";
import {
  add,
  crossEntropy,
  embedding,
  gateWeights,
  gatherRows,
  linear,
  mlaAttention,
  Param,
  rmsnorm,
  rope,
  scatterAddScaled,
  sliceCols,
  swiglu,
  type Tape,
  Var,
} from "./autograd.js";
import type { Precision } from "./precision.js";
import { Rng } from "./rng.js";

/** The config.json fields the trainer uses (HF DeepSeek-V3 names, camel-cased). */
export interface TinyConfig {
  vocabSize: number;
  hidden: number;
  nLayers: number;
  nHeads: number;
  qLoraRank: number; // 0: a plain q_proj (DeepSeek-V2-Lite), exported as q_lora_rank null
  kvLoraRank: number;
  qkNopeDim: number;
  qkRopeDim: number;
  vHeadDim: number;
  intermediate: number;
  moeIntermediate: number;
  nRoutedExperts: number;
  nSharedExperts: number;
  topK: number;
  firstKDense: number;
  routedScalingFactor: number;
  normTopkProb: boolean;
  ropeTheta: number;
  rmsEps: number;
  maxPos: number;
  /**
   * Training-only init (not exported): > 0 gives every token embedding a constant feature of this size in
   * dimension 0 and lets each layer's rotary key and query latent read it, so position-only attention
   * (a lookup at a fixed relative offset) is available from step 0 instead of having to be discovered.
   */
  posInit?: number;
}

export interface MoeState {
  /** e_score_correction_bias: added to scores for selection only; updated by ±gamma per step. */
  bias: Float32Array;
  /** Tokens routed to each expert since the last bias update. */
  load: Float64Array;
}

export interface ForwardOptions {
  prec?: Precision;
  /** Sequence-wise balance loss weight alpha (0: off). */
  seqAux?: number;
}

/** loss() extras for surrogate objectives (GRPO) that weight each target token by a signed coefficient. */
export interface LossOptions extends ForwardOptions {
  /** Divide the weighted sum by this instead of the weight total (see crossEntropy). */
  ceDenom?: number;
  /**
   * Per-token weights computed from this forward pass's logits [B*T, vocab] (read-only, detached), replacing
   * `mask`: GRPO's KL coefficient needs pi_theta of the very forward it differentiates, so one pass serves both.
   */
  weightsFrom?: (logits: Float32Array) => Float32Array;
}

export class TinyV3 {
  readonly params = new Map<string, Param>();
  readonly moe: (MoeState | null)[] = [];
  private readonly tables: RopeTables;

  constructor(
    readonly cfg: TinyConfig,
    seed = 1,
  ) {
    const rng = new Rng(seed);
    const c = cfg;
    const std = 0.02;
    const outStd = std / Math.sqrt(2 * c.nLayers);
    const P = (name: string, shape: number[], init: "normal" | "ones" | "out" = "normal") => {
      const n = shape.reduce((a, b) => a * b, 1);
      const d = new Float32Array(n);
      if (init === "ones") d.fill(1);
      else for (let i = 0; i < n; i++) d[i] = rng.normal() * (init === "out" ? outStd : std);
      this.params.set(name, new Param(name, shape, d));
    };
    const qk = c.qkNopeDim + c.qkRopeDim;
    P("model.embed_tokens.weight", [c.vocabSize, c.hidden]);
    for (let l = 0; l < c.nLayers; l++) {
      const p = `model.layers.${l}`;
      P(`${p}.input_layernorm.weight`, [c.hidden], "ones");
      if (c.qLoraRank > 0) {
        P(`${p}.self_attn.q_a_proj.weight`, [c.qLoraRank, c.hidden]);
        P(`${p}.self_attn.q_a_layernorm.weight`, [c.qLoraRank], "ones");
        P(`${p}.self_attn.q_b_proj.weight`, [c.nHeads * qk, c.qLoraRank]);
      } else P(`${p}.self_attn.q_proj.weight`, [c.nHeads * qk, c.hidden]); // DeepSeek-V2-Lite: no query LoRA
      P(`${p}.self_attn.kv_a_proj_with_mqa.weight`, [c.kvLoraRank + c.qkRopeDim, c.hidden]);
      P(`${p}.self_attn.kv_a_layernorm.weight`, [c.kvLoraRank], "ones");
      P(`${p}.self_attn.kv_b_proj.weight`, [c.nHeads * (c.qkNopeDim + c.vHeadDim), c.kvLoraRank]);
      P(`${p}.self_attn.o_proj.weight`, [c.hidden, c.nHeads * c.vHeadDim], "out");
      P(`${p}.post_attention_layernorm.weight`, [c.hidden], "ones");
      const ffn = (q: string, inter: number) => {
        P(`${q}.gate_proj.weight`, [inter, c.hidden]);
        P(`${q}.up_proj.weight`, [inter, c.hidden]);
        P(`${q}.down_proj.weight`, [c.hidden, inter], "out");
      };
      if (l < c.firstKDense) {
        ffn(`${p}.mlp`, c.intermediate);
        this.moe.push(null);
      } else {
        P(`${p}.mlp.gate.weight`, [c.nRoutedExperts, c.hidden]);
        for (let e = 0; e < c.nRoutedExperts; e++) ffn(`${p}.mlp.experts.${e}`, c.moeIntermediate);
        if (c.nSharedExperts > 0) ffn(`${p}.mlp.shared_experts`, c.moeIntermediate * c.nSharedExperts);
        this.moe.push({ bias: new Float32Array(c.nRoutedExperts), load: new Float64Array(c.nRoutedExperts) });
      }
    }
    P("model.norm.weight", [c.hidden], "ones");
    P("lm_head.weight", [c.vocabSize, c.hidden]);
    if (c.posInit) this.positionalInit(c.posInit, rng);
    this.tables = ropeTables({ theta: c.ropeTheta, dim: c.qkRopeDim, interleaved: true });
  }

  private positionalInit(kappa: number, rng: Rng): void {
    const c = this.cfg;
    const emb = this.p("model.embed_tokens.weight").data;
    for (let v = 0; v < c.vocabSize; v++) emb[v * c.hidden] = kappa;
    for (let l = 0; l < c.nLayers; l++) {
      const a = `model.layers.${l}.self_attn`;
      const kv = this.p(`${a}.kv_a_proj_with_mqa.weight`).data;
      for (let j = 0; j < c.qkRopeDim; j++) kv[(c.kvLoraRank + j) * c.hidden] = rng.next() < 0.5 ? -0.25 : 0.25;
      // Queries start aligned with the keys: every head begins with a mild recency bias (score falls off with
      // distance over the RoPE frequencies), so early attention is not spread evenly over ~200 positions.
      // With a query LoRA the position feature goes through its first column; without one, q reads it directly.
      const lora = c.qLoraRank > 0;
      if (lora) this.p(`${a}.q_a_proj.weight`).data[0] = 0.25;
      const qb = this.p(lora ? `${a}.q_b_proj.weight` : `${a}.q_proj.weight`).data;
      const cols = lora ? c.qLoraRank : c.hidden;
      const qk = c.qkNopeDim + c.qkRopeDim;
      for (let h = 0; h < c.nHeads; h++)
        for (let j = 0; j < c.qkRopeDim; j++)
          qb[(h * qk + c.qkNopeDim + j) * cols] = 0.8 * kv[(c.kvLoraRank + j) * c.hidden];
    }
  }

  p(name: string): Param {
    const x = this.params.get(name);
    if (!x) throw new Error(`no parameter ${name}`);
    return x;
  }

  paramCount(): { total: number; active: number } {
    let total = 0;
    let experts = 0;
    for (const [n, p] of this.params) {
      total += p.data.length;
      if (n.includes(".mlp.experts.")) experts += p.data.length;
    }
    const active = total - experts + (experts * this.cfg.topK) / this.cfg.nRoutedExperts;
    return { total, active: Math.round(active) };
  }

  /** Logits [B*T, vocab] for B sequences of T tokens (positions 0..T-1 each). */
  forward(tape: Tape, ids: Int32Array, B: number, T: number, opts: ForwardOptions = {}): { logits: Var; aux: Var[] } {
    const c = this.cfg;
    const N = B * T;
    const half = c.qkRopeDim / 2;
    const cos1 = new Float32Array(T * half);
    const sin1 = new Float32Array(T * half);
    ropeAngles(this.tables, 0, T, cos1, sin1);
    const cos = new Float32Array(N * half);
    const sin = new Float32Array(N * half);
    for (let b = 0; b < B; b++) {
      cos.set(cos1, b * T * half);
      sin.set(sin1, b * T * half);
    }
    const aux: Var[] = [];
    let x = embedding(tape, this.p("model.embed_tokens.weight"), ids);
    for (let l = 0; l < c.nLayers; l++) {
      const p = `model.layers.${l}`;
      const h = rmsnorm(tape, x, this.p(`${p}.input_layernorm.weight`), N, c.hidden, c.rmsEps);
      x = add(tape, x, this.attention(tape, h, p, B, T, cos, sin, opts.prec));
      const h2 = rmsnorm(tape, x, this.p(`${p}.post_attention_layernorm.weight`), N, c.hidden, c.rmsEps);
      const st = this.moe[l];
      const f = st ? this.moeFfn(tape, h2, p, st, B, T, opts, aux) : this.ffn(tape, h2, `${p}.mlp`, N, opts.prec);
      x = add(tape, x, f);
    }
    const hn = rmsnorm(tape, x, this.p("model.norm.weight"), N, c.hidden, c.rmsEps);
    // The output head stays in high precision (V3 keeps embedding and head out of FP8).
    return { logits: linear(tape, hn, this.p("lm_head.weight"), N, opts.prec, true), aux };
  }

  /** Mean next-token loss over masked positions (or a signed-weight surrogate, see LossOptions), plus any balance loss. */
  loss(
    tape: Tape,
    ids: Int32Array,
    targets: Int32Array,
    mask: Float32Array,
    B: number,
    T: number,
    opts: LossOptions = {},
  ): { loss: Var; ce: number } {
    const { logits, aux } = this.forward(tape, ids, B, T, opts);
    const w = opts.weightsFrom ? opts.weightsFrom(logits.data) : mask;
    let loss = crossEntropy(tape, logits, targets, w, this.cfg.vocabSize, opts.ceDenom);
    const ce = loss.data[0];
    for (const a of aux) loss = add(tape, loss, a);
    return { loss, ce };
  }

  private attention(
    tape: Tape,
    h: Var,
    p: string,
    B: number,
    T: number,
    cos: Float32Array,
    sin: Float32Array,
    prec?: Precision,
  ): Var {
    const c = this.cfg;
    const N = B * T;
    const H = c.nHeads;
    const { qkNopeDim: nope, qkRopeDim: rd, vHeadDim: V, kvLoraRank: R } = c;
    const qk = nope + rd;
    const a = `${p}.self_attn`;
    let q: Var; // [N, H, nope | rope]
    if (c.qLoraRank > 0) {
      const qa = linear(tape, h, this.p(`${a}.q_a_proj.weight`), N, prec);
      const qn = rmsnorm(tape, qa, this.p(`${a}.q_a_layernorm.weight`), N, c.qLoraRank, c.rmsEps);
      q = linear(tape, qn, this.p(`${a}.q_b_proj.weight`), N, prec);
    } else q = linear(tape, h, this.p(`${a}.q_proj.weight`), N, prec);
    q = rope(tape, q, N, H, qk, nope, rd, cos, sin);
    const kv = linear(tape, h, this.p(`${a}.kv_a_proj_with_mqa.weight`), N, prec); // [N, R | rope]
    const lat = rmsnorm(
      tape,
      sliceCols(tape, kv, N, R + rd, 0, R),
      this.p(`${a}.kv_a_layernorm.weight`),
      N,
      R,
      c.rmsEps,
    );
    const kPe = rope(tape, sliceCols(tape, kv, N, R + rd, R, rd), N, 1, rd, 0, rd, cos, sin); // [N, rope]
    const kvb = linear(tape, lat, this.p(`${a}.kv_b_proj.weight`), N, prec); // [N, H, nope | v]
    const kNope = sliceHeads(tape, kvb, N, H, nope + V, 0, nope);
    const v = sliceHeads(tape, kvb, N, H, nope + V, nope, V);
    const o = mlaAttention(tape, q, kNope, kPe, v, B, T, H, nope, rd, V, 1 / Math.sqrt(qk));
    return linear(tape, o, this.p(`${a}.o_proj.weight`), N, prec);
  }

  private ffn(tape: Tape, h: Var, q: string, N: number, prec?: Precision): Var {
    const g = linear(tape, h, this.p(`${q}.gate_proj.weight`), N, prec);
    const u = linear(tape, h, this.p(`${q}.up_proj.weight`), N, prec);
    return linear(tape, swiglu(tape, g, u), this.p(`${q}.down_proj.weight`), N, prec);
  }

  private moeFfn(
    tape: Tape,
    h: Var,
    p: string,
    st: MoeState,
    B: number,
    T: number,
    opts: ForwardOptions,
    aux: Var[],
  ): Var {
    const c = this.cfg;
    const N = B * T;
    const E = c.nRoutedExperts;
    const k = c.topK;
    // The router (gate) stays in high precision, as in V3.
    const logits = linear(tape, h, this.p(`${p}.mlp.gate.weight`), N, opts.prec, true);
    const chosen = selectExperts(logits.data, st.bias, N, E, k);
    for (let i = 0; i < chosen.length; i++) st.load[chosen[i]]++;
    const w = gateWeights(tape, logits, chosen, N, E, k, c.normTopkProb, c.routedScalingFactor);
    const out = new Var(new Float32Array(N * c.hidden));
    for (let e = 0; e < E; e++) {
      const rows: number[] = [];
      const slots: number[] = [];
      for (let i = 0; i < chosen.length; i++)
        if (chosen[i] === e) {
          rows.push(Math.floor(i / k));
          slots.push(i);
        }
      if (rows.length === 0) continue;
      const idx = Int32Array.from(rows);
      const xin = gatherRows(tape, h, idx, c.hidden);
      const y = this.ffn(tape, xin, `${p}.mlp.experts.${e}`, rows.length, opts.prec);
      scatterAddScaled(tape, out, y, idx, w, Int32Array.from(slots), c.hidden);
    }
    if (opts.seqAux) aux.push(seqBalanceLoss(tape, logits, chosen, B, T, E, k, opts.seqAux));
    if (c.nSharedExperts === 0) return out;
    return add(tape, out, this.ffn(tape, h, `${p}.mlp.shared_experts`, N, opts.prec));
  }
}

/** Top-k of sigmoid(logit) + bias per token, ties to the lower index (as the runtime's route()). */
export function selectExperts(logits: Float32Array, bias: Float32Array, N: number, E: number, k: number): Int32Array {
  const out = new Int32Array(N * k);
  const sc = new Float64Array(E);
  for (let n = 0; n < N; n++) {
    for (let e = 0; e < E; e++) sc[e] = 1 / (1 + Math.exp(-logits[n * E + e])) + bias[e];
    for (let j = 0; j < k; j++) {
      let best = -1;
      for (let e = 0; e < E; e++) if (sc[e] !== Number.NEGATIVE_INFINITY && (best < 0 || sc[e] > sc[best])) best = e;
      out[n * k + j] = best;
      sc[best] = Number.NEGATIVE_INFINITY;
    }
  }
  return out;
}

/**
 * V3's sequence-wise balance loss: per sequence, alpha * sum_i f_i P_i with f_i = E/(k T) * (tokens choosing i)
 * and P_i = mean over tokens of the normalized affinity s_i / sum_j s_j (s = sigmoid). Averaged over sequences.
 */
export function seqBalanceLoss(
  tape: Tape,
  logits: Var,
  chosen: Int32Array,
  B: number,
  T: number,
  E: number,
  k: number,
  alpha: number,
): Var {
  const f = new Float32Array(B * E);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) for (let j = 0; j < k; j++) f[b * E + chosen[(b * T + t) * k + j]] += E / (k * T);
  const s = new Float32Array(B * T * E);
  const sums = new Float32Array(B * T);
  let total = 0;
  for (let n = 0; n < B * T; n++) {
    let sum = 0;
    for (let e = 0; e < E; e++) sum += s[n * E + e] = 1 / (1 + Math.exp(-logits.data[n * E + e]));
    sums[n] = sum;
    const b = Math.floor(n / T);
    for (let e = 0; e < E; e++) total += (f[b * E + e] * s[n * E + e]) / sum / T;
  }
  const loss = new Var(new Float32Array([(alpha * total) / B]));
  tape.push(() => {
    if (!loss.grad) return;
    const g = logits.g();
    const scale = (loss.grad[0] * alpha) / (B * T);
    for (let n = 0; n < B * T; n++) {
      const b = Math.floor(n / T);
      // L_n = sum_e f_e s_e / S: dL/ds_e = (f_e - sum_j f_j s_j / S) / S
      let dot = 0;
      for (let e = 0; e < E; e++) dot += f[b * E + e] * s[n * E + e];
      dot /= sums[n];
      for (let e = 0; e < E; e++) {
        const se = s[n * E + e];
        g[n * E + e] += ((scale * (f[b * E + e] - dot)) / sums[n]) * se * (1 - se);
      }
    }
  });
  return loss;
}

/** Columns [off, off+n) of every head of x [N, H, stride] as [N, H, n]. */
function sliceHeads(tape: Tape, x: Var, N: number, H: number, stride: number, off: number, n: number): Var {
  return sliceCols(tape, x, N * H, stride, off, n);
}

/** max / mean - 1 of one layer's per-expert token counts (0 when nothing was routed). */
export function maxVio(load: ArrayLike<number>): number {
  let sum = 0;
  let max = 0;
  for (let e = 0; e < load.length; e++) {
    sum += load[e];
    max = Math.max(max, load[e]);
  }
  return sum > 0 ? (max * load.length) / sum - 1 : 0;
}

/**
 * Auxiliary-loss-free balancing (V3 §2.1.2): b_i += gamma * sign(mean load - load_i) after each step, then the
 * loads reset. Returns MaxVio of the step (max load / mean load - 1) averaged over MoE layers. `window`, when
 * given, gets each MoE layer's loads added (one array per layer, in order) before the reset: MaxVio over many
 * steps, where a tiny batch's own sampling noise no longer dominates.
 */
export function updateBias(model: TinyV3, gamma: number, window?: Float64Array[]): number {
  let vio = 0;
  let layers = 0;
  for (const st of model.moe) {
    if (!st) continue;
    const E = st.load.length;
    if (window) {
      window[layers] ??= new Float64Array(E);
      for (let e = 0; e < E; e++) window[layers][e] += st.load[e];
    }
    let sum = 0;
    for (let e = 0; e < E; e++) sum += st.load[e];
    const mean = sum / E;
    if (mean > 0) {
      vio += maxVio(st.load);
      if (gamma > 0) for (let e = 0; e < E; e++) st.bias[e] += gamma * Math.sign(mean - st.load[e]);
    }
    layers++;
    st.load.fill(0);
  }
  return layers ? vio / layers : 0;
}

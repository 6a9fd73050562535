// Reverse-mode autograd on Float32Array: a tape of backward closures. Every op computes its output, then
// pushes a closure that adds its inputs' gradients from the output's gradient. Tensors are flat row-major
// arrays; shapes live in the op signatures ([N, K] = N rows of K floats). Gradients are allocated lazily.
// A Linear layer's three GEMMs (forward, input gradient, weight gradient) run on WebAssembly SIMD kernels
// (gemm_wasm.ts; gemm_ref.ts holds the plain loops they are tested against), and so does attention
// (attention.ts, with its reference); FP8 emulation (precision.ts) quantize-dequantizes GEMM inputs when a
// Precision asks.

import { type AttnImpl, attn } from "./attention.js";
import { gemmNN_acc, gemmNT, gemmTN_acc } from "./gemm_wasm.js";
import { FP8_GEMMS, type Fp8Gemm, type Precision, quantCols, quantRows, quantWeight } from "./precision.js";

export class Var {
  grad: Float32Array | null = null;
  constructor(
    public data: Float32Array,
    readonly requiresGrad = true,
  ) {}
  /** The gradient buffer, allocated (zeroed) on first use. */
  g(): Float32Array {
    if (!this.grad) this.grad = new Float32Array(this.data.length);
    return this.grad;
  }
}

/** A trainable tensor: FP32 master weights and their gradient. */
export class Param extends Var {
  constructor(
    readonly name: string,
    readonly shape: number[],
    data: Float32Array,
  ) {
    super(data, true);
    this.grad = new Float32Array(data.length);
  }
}

export class Tape {
  private ops: (() => void)[] = [];
  /** When false (evaluation), ops record nothing. */
  constructor(readonly recording = true) {}
  push(fn: () => void): void {
    if (this.recording) this.ops.push(fn);
  }
  /** Runs the closures in reverse; `loss` must be a scalar Var whose gradient is seeded to 1. */
  backward(loss: Var): void {
    loss.g()[0] = 1;
    for (let i = this.ops.length - 1; i >= 0; i--) this.ops[i]();
    this.ops = [];
  }
}

// ---- ops ----

/**
 * Linear without bias: y[N, M] = x[N, K] · W[M, K]ᵀ. Under FP8 (prec.fp8 and this GEMM not exempt) every GEMM
 * takes E4M3 inputs as DeepSeek-V3 does: forward x in 1x128 tiles and W in 128x128 blocks; input gradient dy in
 * 1x128 tiles with the same quantized W; weight gradient dy and x both in 128x1 tiles (along N). Accumulation f32.
 */
export function linear(tape: Tape, x: Var, w: Param, N: number, prec?: Precision, exempt = false): Var {
  const [M, K] = w.shape;
  const on = (g: Fp8Gemm) => !!prec?.fp8 && !exempt && (prec.fp8Gemms ?? FP8_GEMMS).includes(g);
  const fwd = on("forward");
  const dgrad = on("dgrad");
  const wgrad = on("wgrad");
  const xq = fwd ? quantRows(x.data, N, K) : x.data;
  // The input gradient uses the same quantized W as the forward (V3 keeps one FP8 copy of each weight).
  const wq = fwd || dgrad ? quantWeight(w.data, M, K) : w.data;
  const y = new Var(new Float32Array(N * M));
  gemmNT(y.data, xq, fwd ? wq : w.data, N, K, M);
  tape.push(() => {
    if (!y.grad) return;
    const dy = y.grad;
    if (x.requiresGrad) {
      const dyq = dgrad ? quantRows(dy, N, M) : dy;
      gemmNN_acc(x.g(), dyq, dgrad ? wq : w.data, N, M, K);
    }
    const dyc = wgrad ? quantCols(dy, N, M) : dy;
    const xc = wgrad ? quantCols(x.data, N, K) : x.data;
    gemmTN_acc(w.g(), dyc, xc, N, M, K);
  });
  return y;
}

/** Row gather from an embedding table E[V, D]: y[N, D] = E[ids[n]]. */
export function embedding(tape: Tape, E: Param, ids: Int32Array): Var {
  const D = E.shape[1];
  const N = ids.length;
  const y = new Var(new Float32Array(N * D));
  for (let n = 0; n < N; n++) y.data.set(E.data.subarray(ids[n] * D, ids[n] * D + D), n * D);
  tape.push(() => {
    if (!y.grad) return;
    const g = E.g();
    for (let n = 0; n < N; n++) {
      const o = ids[n] * D;
      for (let d = 0; d < D; d++) g[o + d] += y.grad[n * D + d];
    }
  });
  return y;
}

/** y[N, D] = x / sqrt(mean(x²) + eps) * g, over rows of length D starting every `stride` floats at `off`. */
export function rmsnorm(tape: Tape, x: Var, gain: Param, N: number, D: number, eps: number): Var {
  const y = new Var(new Float32Array(N * D));
  const inv = new Float32Array(N);
  const g = gain.data;
  for (let n = 0; n < N; n++) {
    const o = n * D;
    let ss = 0;
    for (let i = 0; i < D; i++) ss += x.data[o + i] * x.data[o + i];
    const r = Math.fround(1 / Math.sqrt(Math.fround(ss / D) + eps));
    inv[n] = r;
    for (let i = 0; i < D; i++) y.data[o + i] = Math.fround(x.data[o + i] * r) * g[i];
  }
  tape.push(() => {
    if (!y.grad) return;
    const dy = y.grad;
    const dg = gain.g();
    const dx = x.requiresGrad ? x.g() : null;
    for (let n = 0; n < N; n++) {
      const o = n * D;
      const r = inv[n];
      // xhat = x*r; dxhat = dy*g; dx = r*(dxhat - xhat*mean(dxhat*xhat))
      let dot = 0;
      for (let i = 0; i < D; i++) {
        const xh = x.data[o + i] * r;
        dg[i] += dy[o + i] * xh;
        dot += dy[o + i] * g[i] * xh;
      }
      if (!dx) continue;
      dot /= D;
      for (let i = 0; i < D; i++) dx[o + i] += r * (dy[o + i] * g[i] - x.data[o + i] * r * dot);
    }
  });
  return y;
}

/** z = a + b (same length). */
export function add(tape: Tape, a: Var, b: Var): Var {
  const z = new Var(new Float32Array(a.data.length));
  for (let i = 0; i < z.data.length; i++) z.data[i] = a.data[i] + b.data[i];
  tape.push(() => {
    if (!z.grad) return;
    if (a.requiresGrad) {
      const g = a.g();
      for (let i = 0; i < g.length; i++) g[i] += z.grad[i];
    }
    if (b.requiresGrad) {
      const g = b.g();
      for (let i = 0; i < g.length; i++) g[i] += z.grad[i];
    }
  });
  return z;
}

/** Columns [off, off + n) of x [N, C] as a new [N, n] tensor. */
export function sliceCols(tape: Tape, x: Var, N: number, C: number, off: number, n: number): Var {
  const y = new Var(new Float32Array(N * n));
  for (let r = 0; r < N; r++) y.data.set(x.data.subarray(r * C + off, r * C + off + n), r * n);
  tape.push(() => {
    if (!y.grad || !x.requiresGrad) return;
    const g = x.g();
    for (let r = 0; r < N; r++) for (let i = 0; i < n; i++) g[r * C + off + i] += y.grad[r * n + i];
  });
  return y;
}

/** out = silu(gate) * up, elementwise. */
export function swiglu(tape: Tape, gate: Var, up: Var): Var {
  const n = gate.data.length;
  const y = new Var(new Float32Array(n));
  const sig = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = 1 / (1 + Math.exp(-gate.data[i]));
    sig[i] = s;
    y.data[i] = gate.data[i] * s * up.data[i];
  }
  tape.push(() => {
    if (!y.grad) return;
    const dg = gate.g();
    const du = up.g();
    for (let i = 0; i < n; i++) {
      const s = sig[i];
      const gx = gate.data[i];
      const d = y.grad[i];
      du[i] += d * gx * s;
      dg[i] += d * up.data[i] * s * (1 + gx * (1 - s));
    }
  });
  return y;
}

/**
 * Rotary embedding, interleaved pairs (2i, 2i+1) as DeepSeek's inference code and the runtime do, on dims
 * [off, off + rope) of each of `heads` heads in x viewed [N, heads, stride]; cos/sin [N, rope/2].
 */
export function rope(
  tape: Tape,
  x: Var,
  N: number,
  heads: number,
  stride: number,
  off: number,
  ropeDim: number,
  cos: Float32Array,
  sin: Float32Array,
): Var {
  const half = ropeDim / 2;
  const y = new Var(Float32Array.from(x.data));
  for (let n = 0; n < N; n++)
    for (let h = 0; h < heads; h++) {
      const b = (n * heads + h) * stride + off;
      for (let i = 0; i < half; i++) {
        const c = cos[n * half + i];
        const s = sin[n * half + i];
        const x0 = x.data[b + 2 * i];
        const x1 = x.data[b + 2 * i + 1];
        y.data[b + 2 * i] = x0 * c - x1 * s;
        y.data[b + 2 * i + 1] = x0 * s + x1 * c;
      }
    }
  tape.push(() => {
    if (!y.grad || !x.requiresGrad) return;
    const dx = x.g();
    const dy = y.grad;
    for (let i = 0; i < dy.length; i++) dx[i] += dy[i];
    for (let n = 0; n < N; n++)
      for (let h = 0; h < heads; h++) {
        const b = (n * heads + h) * stride + off;
        for (let i = 0; i < half; i++) {
          const c = cos[n * half + i];
          const s = sin[n * half + i];
          const d0 = dy[b + 2 * i];
          const d1 = dy[b + 2 * i + 1];
          // Replace the pass-through added above with the transposed rotation.
          dx[b + 2 * i] += d0 * c + d1 * s - d0;
          dx[b + 2 * i + 1] += -d0 * s + d1 * c - d1;
        }
      }
  });
  return y;
}

/**
 * Causal MLA attention in the naive (non-absorbed) form, for B sequences of T tokens each:
 * q [B*T, H, nope+rope] (rope applied), kNope [B*T, H, nope], kPe [B*T, rope] shared by all heads (MQA key),
 * v [B*T, H, V] -> out [B*T, H, V]. score = (qNope·kNope + qPe·kPe) * scale; softmax in f32. The loops are in
 * attention.ts (wasm kernels, or the reference where the module is missing).
 */
export function mlaAttention(
  tape: Tape,
  q: Var,
  kNope: Var,
  kPe: Var,
  v: Var,
  B: number,
  T: number,
  H: number,
  nope: number,
  rd: number,
  V: number,
  scale: number,
  impl: AttnImpl = attn,
): Var {
  const shape = { B, T, H, nope, rd, V, scale };
  const saved = impl.forward(q.data, kNope.data, kPe.data, v.data, shape);
  const out = new Var(saved.out);
  tape.push(() => {
    if (!out.grad) return;
    impl.backward(q.data, kNope.data, kPe.data, v.data, saved, out.grad, [q.g(), kNope.g(), kPe.g(), v.g()], shape);
  });
  return out;
}

/**
 * Weighted cross-entropy sum_n w_n * -log softmax(logits_n)[target_n] / denom over rows whose weight is non-zero:
 * logits [N, Vv], targets [N], weights [N] (0 masks a row). `denom` defaults to the weight total (a weighted
 * mean, the SFT loss); a fixed `denom` with signed weights is a policy-gradient surrogate (GRPO's per-token
 * coefficients, see grpo.ts), where the weight total can be zero or negative. Returns a scalar Var.
 */
export function crossEntropy(
  tape: Tape,
  logits: Var,
  targets: Int32Array,
  weights: Float32Array,
  Vv: number,
  denom?: number,
): Var {
  const N = targets.length;
  let total = 0;
  let wsum = 0;
  const probs = new Float32Array(N * Vv);
  for (let n = 0; n < N; n++) {
    if (weights[n] === 0) continue;
    const o = n * Vv;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < Vv; i++) if (logits.data[o + i] > max) max = logits.data[o + i];
    let sum = 0;
    for (let i = 0; i < Vv; i++) {
      const e = Math.exp(logits.data[o + i] - max);
      probs[o + i] = e;
      sum += e;
    }
    for (let i = 0; i < Vv; i++) probs[o + i] /= sum;
    total += weights[n] * -Math.log(Math.max(probs[o + targets[n]], 1e-30));
    wsum += weights[n];
  }
  const d = denom ?? wsum;
  const loss = new Var(new Float32Array([d !== 0 ? total / d : 0]));
  tape.push(() => {
    if (!loss.grad || d === 0) return;
    const g = logits.g();
    const s = loss.grad[0] / d;
    for (let n = 0; n < N; n++) {
      if (weights[n] === 0) continue;
      const o = n * Vv;
      const w = weights[n] * s;
      for (let i = 0; i < Vv; i++) g[o + i] += w * probs[o + i];
      g[o + targets[n]] -= w;
    }
  });
  return loss;
}

/** Rows `idx` of x [N, D] as [idx.length, D] (MoE dispatch). */
export function gatherRows(tape: Tape, x: Var, idx: Int32Array, D: number): Var {
  const y = new Var(new Float32Array(idx.length * D));
  for (let i = 0; i < idx.length; i++) y.data.set(x.data.subarray(idx[i] * D, idx[i] * D + D), i * D);
  tape.push(() => {
    if (!y.grad || !x.requiresGrad) return;
    const g = x.g();
    for (let i = 0; i < idx.length; i++) {
      const o = idx[i] * D;
      for (let d = 0; d < D; d++) g[o + d] += y.grad[i * D + d];
    }
  });
  return y;
}

/**
 * MoE combine: out[idx[i]] += w.data[widx[i]] * y[i] for the rows y [n, D] one expert produced. Gradients flow to
 * y and to the gate weights w (entries widx).
 */
export function scatterAddScaled(
  tape: Tape,
  out: Var,
  y: Var,
  idx: Int32Array,
  w: Var,
  widx: Int32Array,
  D: number,
): void {
  for (let i = 0; i < idx.length; i++) {
    const gw = w.data[widx[i]];
    const o = idx[i] * D;
    for (let d = 0; d < D; d++) out.data[o + d] += gw * y.data[i * D + d];
  }
  tape.push(() => {
    if (!out.grad) return;
    const dy = y.g();
    const dw = w.requiresGrad ? w.g() : null;
    for (let i = 0; i < idx.length; i++) {
      const gw = w.data[widx[i]];
      const o = idx[i] * D;
      let acc = 0;
      for (let d = 0; d < D; d++) {
        dy[i * D + d] += gw * out.grad[o + d];
        acc += out.grad[o + d] * y.data[i * D + d];
      }
      if (dw) dw[widx[i]] += acc;
    }
  });
}

/**
 * DeepSeek-V3 gate weights from router logits [N, E] and the chosen experts [N, k]: s = sigmoid(logit);
 * w[n, j] = scale * s[n, e_j] / sum_j' s[n, e_j'] (norm_topk_prob) or scale * s[n, e_j]. The selection itself
 * (which used s + bias) is not differentiable and is passed in.
 */
export function gateWeights(
  tape: Tape,
  logits: Var,
  chosen: Int32Array,
  N: number,
  E: number,
  k: number,
  norm: boolean,
  scale: number,
): Var {
  const w = new Var(new Float32Array(N * k));
  const s = new Float32Array(N * k);
  const sums = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const v = 1 / (1 + Math.exp(-logits.data[n * E + chosen[n * k + j]]));
      s[n * k + j] = v;
      sum += v;
    }
    sums[n] = norm ? sum + 1e-20 : 1;
    for (let j = 0; j < k; j++) w.data[n * k + j] = (scale * s[n * k + j]) / sums[n];
  }
  tape.push(() => {
    if (!w.grad) return;
    const dl = logits.g();
    for (let n = 0; n < N; n++) {
      // w_j = c s_j / S  =>  dL/ds_j = c/S (dw_j - sum_i dw_i s_i / S)
      let dot = 0;
      for (let j = 0; j < k; j++) dot += w.grad[n * k + j] * s[n * k + j];
      for (let j = 0; j < k; j++) {
        const sj = s[n * k + j];
        const ds = norm ? (scale / sums[n]) * (w.grad[n * k + j] - dot / sums[n]) : scale * w.grad[n * k + j];
        dl[n * E + chosen[n * k + j]] += ds * sj * (1 - sj);
      }
    }
  });
  return w;
}

/**
 * Distillation loss: sum_n w_n KL_n / denom over rows with w_n != 0, where, with q_n = softmax(logits_n / T)
 * (the student, differentiated) and p_n = softmax(target_n / T) (the teacher's logits, constant):
 *   forward (default)  KL_n = KL(p_n || q_n) = sum_v p log p - sum_v p log q   (soft-target cross-entropy minus
 *                      the teacher's entropy, so 0 at a match with the same gradient)
 *   reverse            KL_n = KL(q_n || p_n) = sum_v q (log q - log p)
 * logits [N, Vv], target [N, Vv], weights [N]. `denom` defaults to the weight total. Gradients wrt logits:
 *   forward  w/denom * (q - p) / T;   reverse  w/denom * q (log q - log p - KL_n) / T.
 * Hinton's T^2 factor is left to the caller (fold it into the weights). Returns a scalar Var.
 */
export function klDivergence(
  tape: Tape,
  logits: Var,
  target: Float32Array,
  weights: Float32Array,
  Vv: number,
  opts: { temperature?: number; reverse?: boolean; denom?: number } = {},
): Var {
  const T = opts.temperature ?? 1;
  const N = weights.length;
  // log q and log p [N, Vv] in f64 for the rows that carry weight (the backward pass reuses both).
  const logq = new Float64Array(N * Vv);
  const logp = new Float64Array(N * Vv);
  const kls = new Float64Array(N);
  const logSoftmax = (src: Float32Array, dst: Float64Array, o: number) => {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < Vv; i++) max = Math.max(max, src[o + i] / T);
    let sum = 0;
    for (let i = 0; i < Vv; i++) sum += Math.exp(src[o + i] / T - max);
    const lse = max + Math.log(sum);
    for (let i = 0; i < Vv; i++) dst[o + i] = src[o + i] / T - lse;
  };
  let total = 0;
  let wsum = 0;
  for (let n = 0; n < N; n++) {
    if (weights[n] === 0) continue;
    const o = n * Vv;
    logSoftmax(logits.data, logq, o);
    logSoftmax(target, logp, o);
    let kl = 0;
    for (let i = o; i < o + Vv; i++)
      kl += opts.reverse ? Math.exp(logq[i]) * (logq[i] - logp[i]) : Math.exp(logp[i]) * (logp[i] - logq[i]);
    kls[n] = kl;
    total += weights[n] * kl;
    wsum += weights[n];
  }
  const d = opts.denom ?? wsum;
  const loss = new Var(new Float32Array([d !== 0 ? total / d : 0]));
  tape.push(() => {
    if (!loss.grad || d === 0) return;
    const g = logits.g();
    const s = loss.grad[0] / d / T;
    for (let n = 0; n < N; n++) {
      if (weights[n] === 0) continue;
      const w = weights[n] * s;
      for (let i = n * Vv; i < (n + 1) * Vv; i++) {
        const q = Math.exp(logq[i]);
        g[i] += opts.reverse ? w * q * (logq[i] - logp[i] - kls[n]) : w * (q - Math.exp(logp[i]));
      }
    }
  });
  return loss;
}

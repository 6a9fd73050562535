// Causal MLA attention for the trainer (autograd.ts mlaAttention): the plain TypeScript reference and the
// WebAssembly SIMD kernels (assembly/train/attention.ts) behind one interface, a forward that returns the output
// and what the backward needs (the softmax probabilities), and a backward that adds the four input gradients.
// Attention was ~68% of a training step of the GSM8K text recipe (128-token sequences) in the JS loops.
//
// Shapes (naive, non-absorbed MLA): q [B*T, H, nope+rd] (rope applied), kNope [B*T, H, nope], kPe [B*T, rd]
// shared by all heads (an MQA key), v [B*T, H, V] -> out [B*T, H, V]; score = (qNope·kNope + qPe·kPe) * scale.

import { regions, trainMemory, trainWasm } from "./gemm_wasm.js";

export interface AttnShape {
  B: number;
  T: number;
  H: number;
  nope: number;
  rd: number;
  V: number;
  scale: number;
}

export interface AttnImpl {
  /** out and P, the probabilities in the implementation's own layout (only its backward reads them). */
  forward(q: Float32Array, kn: Float32Array, kp: Float32Array, v: Float32Array, s: AttnShape): AttnSaved;
  /** dq, dkn, dkp, dv += the gradients for dO, the output's gradient. */
  backward(
    q: Float32Array,
    kn: Float32Array,
    kp: Float32Array,
    v: Float32Array,
    saved: AttnSaved,
    dO: Float32Array,
    grads: [Float32Array, Float32Array, Float32Array, Float32Array],
    s: AttnShape,
  ): void;
}

export interface AttnSaved {
  out: Float32Array;
  P: Float32Array;
}

/** The reference: f64 sums (JS numbers), probabilities [B, H, T, T]. */
export const attnRef: AttnImpl = {
  forward(q, kn, kp, v, { B, T, H, nope, rd, V, scale }) {
    const qk = nope + rd;
    const out = new Float32Array(B * T * H * V);
    const P = new Float32Array(B * H * T * T);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let t = 0; t < T; t++) {
          const qo = ((b * T + t) * H + h) * qk;
          const po = ((b * H + h) * T + t) * T;
          let max = Number.NEGATIVE_INFINITY;
          for (let s = 0; s <= t; s++) {
            const ko = ((b * T + s) * H + h) * nope;
            const pe = (b * T + s) * rd;
            let acc = 0;
            for (let d = 0; d < nope; d++) acc += q[qo + d] * kn[ko + d];
            for (let d = 0; d < rd; d++) acc += q[qo + nope + d] * kp[pe + d];
            acc *= scale;
            P[po + s] = acc;
            if (acc > max) max = acc;
          }
          let sum = 0;
          for (let s = 0; s <= t; s++) {
            const e = Math.exp(P[po + s] - max);
            P[po + s] = e;
            sum += e;
          }
          const oo = ((b * T + t) * H + h) * V;
          for (let s = 0; s <= t; s++) {
            const p = P[po + s] / sum;
            P[po + s] = p;
            const vo = ((b * T + s) * H + h) * V;
            for (let d = 0; d < V; d++) out[oo + d] += p * v[vo + d];
          }
        }
    return { out, P };
  },

  backward(q, kn, kp, v, { P }, dO, [dq, dkn, dkp, dv], { B, T, H, nope, rd, V, scale }) {
    const qk = nope + rd;
    const dp = new Float32Array(T);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let t = 0; t < T; t++) {
          const oo = ((b * T + t) * H + h) * V;
          const po = ((b * H + h) * T + t) * T;
          let dot = 0;
          for (let s = 0; s <= t; s++) {
            const vo = ((b * T + s) * H + h) * V;
            const p = P[po + s];
            let acc = 0;
            for (let d = 0; d < V; d++) {
              acc += dO[oo + d] * v[vo + d];
              dv[vo + d] += p * dO[oo + d];
            }
            dp[s] = acc;
            dot += p * acc;
          }
          const qo = ((b * T + t) * H + h) * qk;
          for (let s = 0; s <= t; s++) {
            const ds = P[po + s] * (dp[s] - dot) * scale;
            if (ds === 0) continue;
            const ko = ((b * T + s) * H + h) * nope;
            const pe = (b * T + s) * rd;
            for (let d = 0; d < nope; d++) {
              dq[qo + d] += ds * kn[ko + d];
              dkn[ko + d] += ds * q[qo + d];
            }
            for (let d = 0; d < rd; d++) {
              dq[qo + nope + d] += ds * kp[pe + d];
              dkp[pe + d] += ds * q[qo + nope + d];
            }
          }
        }
  },
};

const T4 = (T: number) => (T + 3) & ~3;

/** Scratch floats of one (sequence, head) in the kernels: keys, rope keys, values, their gradients, one row. */
const scratch = ({ T, nope, rd, V }: AttnShape) => T4(T) * (2 * (nope + rd + V) + 1);

/**
 * The wasm kernels: operands copied into the module's memory, results copied out (O(B·T·H·d) against the
 * kernels' O(B·H·T²·d)); probabilities [B, H, T, T4], zero past each row's causal end.
 */
const ex = trainWasm;
const attnWasm: AttnImpl | undefined = ex
  ? {
      forward(q, kn, kp, v, s) {
        const { B, T, H, V } = s;
        const ins = [q, kn, kp, v];
        const nOut = B * T * H * V;
        const nP = B * H * T * T4(T);
        const ptrs = regions(...ins.map((a) => a.length), nOut, nP, scratch(s));
        let F = trainMemory();
        for (const [i, a] of ins.entries()) F.set(a, ptrs[i] >> 2);
        const [op, pp, wp] = ptrs.slice(4);
        F.fill(0, op >> 2, (op >> 2) + nOut);
        ex.mla_fwd(...ptrs.slice(0, 4), op, pp, B, T, H, s.nope, s.rd, V, s.scale, wp);
        F = trainMemory();
        return { out: F.slice(op >> 2, (op >> 2) + nOut), P: F.slice(pp >> 2, (pp >> 2) + nP) };
      },
      backward(q, kn, kp, v, { P }, dO, grads, s) {
        const ins = [q, kn, kp, v, P, dO, ...grads];
        const ptrs = regions(...ins.map((a) => a.length), scratch(s));
        const F = trainMemory();
        for (const [i, a] of ins.entries()) F.set(a, ptrs[i] >> 2);
        ex.mla_bwd(...ptrs.slice(0, 10), s.B, s.T, s.H, s.nope, s.rd, s.V, s.scale, ptrs[10]);
        for (const [i, g] of grads.entries()) g.set(F.subarray(ptrs[6 + i] >> 2, (ptrs[6 + i] >> 2) + g.length));
      },
    }
  : undefined;

export { attnWasm };
/** What mlaAttention runs: the kernels where the module loaded (see gemm_wasm.ts), else the reference. */
export const attn: AttnImpl = attnWasm ?? attnRef;

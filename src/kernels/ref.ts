// The reference kernels: plain loops, f64 accumulation, no cleverness. This file is the specification the
// WASM/SIMD backends are tested against, and the backend that runs when nothing faster is available.

import { composedFfn, type FfnWeights, type Kernels } from "./kernels.js";
import { decodeRow, type Weight } from "./weight.js";

let rowScratch = new Float32Array(0);
function scratchRow(n: number): Float32Array {
  if (rowScratch.length < n) rowScratch = new Float32Array(n);
  return rowScratch;
}

function matmul(out: Float32Array, x: Float32Array, w: Weight, T: number): void {
  const { rows, cols } = w;
  const row = scratchRow(cols);
  for (let r = 0; r < rows; r++) {
    // Decode each weight row once and reuse it for all T inputs: prefill reads the weights once, not T times.
    decodeRow(w, r, row);
    for (let t = 0; t < T; t++) {
      const xo = t * cols;
      let acc = 0;
      for (let c = 0; c < cols; c++) acc += x[xo + c] * row[c];
      out[t * rows + r] = acc;
    }
  }
}

function rmsnorm(out: Float32Array, x: Float32Array, g: Float32Array, T: number, dim: number, eps: number): void {
  for (let t = 0; t < T; t++) {
    const o = t * dim;
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[o + i] * x[o + i];
    // Round the scale through f32 as the oracles (llama.cpp, PyTorch in f32) do.
    const inv = Math.fround(1 / Math.sqrt(Math.fround(ss / dim) + eps));
    for (let i = 0; i < dim; i++) out[o + i] = Math.fround(x[o + i] * inv) * g[i];
  }
}

function rope(
  x: Float32Array,
  T: number,
  nHeads: number,
  stride: number,
  offset: number,
  ropeDim: number,
  cos: Float32Array,
  sin: Float32Array,
  interleaved: boolean,
): void {
  const half = ropeDim / 2;
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < nHeads; h++) {
      const base = (t * nHeads + h) * stride + offset;
      for (let i = 0; i < half; i++) {
        const c = cos[t * half + i];
        const s = sin[t * half + i];
        const a = interleaved ? base + 2 * i : base + i;
        const b = interleaved ? a + 1 : a + half;
        const x0 = x[a];
        const x1 = x[b];
        x[a] = x0 * c - x1 * s;
        x[b] = x0 * s + x1 * c;
      }
    }
  }
}

function swiglu(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    out[i] = (g / (1 + Math.exp(-g))) * up[i];
  }
}

function matmulMany(outs: Float32Array[], x: Float32Array, ws: Weight[], T: number): void {
  for (const [j, w] of ws.entries()) matmul(outs[j], x, w, T);
}

function ffn(out: Float32Array, h: Float32Array, w: FfnWeights, T: number): void {
  composedFfn(refKernels, out, h, w, T);
}

let probScratch = new Float64Array(0);
function probs(n: number): Float64Array {
  if (probScratch.length < n) probScratch = new Float64Array(Math.max(n, 2 * probScratch.length));
  return probScratch;
}

function attention(
  out: Float32Array,
  q: Float32Array,
  kCache: Float32Array,
  vCache: Float32Array,
  T: number,
  pos0: number,
  nHeads: number,
  nKv: number,
  hd: number,
  scale: number,
): void {
  const group = nHeads / nKv;
  const kvStride = nKv * hd;
  for (let t = 0; t < T; t++) {
    const n = pos0 + t + 1; // causal: token at pos0+t sees positions 0..pos0+t
    const p = probs(n);
    for (let h = 0; h < nHeads; h++) {
      const qo = (t * nHeads + h) * hd;
      const kvh = Math.floor(h / group) * hd;
      let max = Number.NEGATIVE_INFINITY;
      for (let s = 0; s < n; s++) {
        const ko = s * kvStride + kvh;
        let acc = 0;
        for (let d = 0; d < hd; d++) acc += q[qo + d] * kCache[ko + d];
        p[s] = acc * scale;
        if (p[s] > max) max = p[s];
      }
      let sum = 0;
      for (let s = 0; s < n; s++) {
        p[s] = Math.exp(p[s] - max);
        sum += p[s];
      }
      const oo = (t * nHeads + h) * hd;
      for (let d = 0; d < hd; d++) out[oo + d] = 0;
      for (let s = 0; s < n; s++) {
        const w = p[s] / sum;
        const vo = s * kvStride + kvh;
        for (let d = 0; d < hd; d++) out[oo + d] += w * vCache[vo + d];
      }
    }
  }
}

function mlaAttention(
  out: Float32Array,
  qLat: Float32Array,
  qPe: Float32Array,
  cCache: Float32Array,
  peCache: Float32Array,
  T: number,
  pos0: number,
  nHeads: number,
  rank: number,
  ropeDim: number,
  scale: number,
): void {
  for (let t = 0; t < T; t++) {
    const n = pos0 + t + 1;
    const p = probs(n);
    for (let h = 0; h < nHeads; h++) {
      const qo = (t * nHeads + h) * rank;
      const po = (t * nHeads + h) * ropeDim;
      let max = Number.NEGATIVE_INFINITY;
      for (let s = 0; s < n; s++) {
        let acc = 0;
        for (let d = 0; d < rank; d++) acc += qLat[qo + d] * cCache[s * rank + d];
        for (let d = 0; d < ropeDim; d++) acc += qPe[po + d] * peCache[s * ropeDim + d];
        p[s] = acc * scale;
        if (p[s] > max) max = p[s];
      }
      let sum = 0;
      for (let s = 0; s < n; s++) {
        p[s] = Math.exp(p[s] - max);
        sum += p[s];
      }
      for (let d = 0; d < rank; d++) out[qo + d] = 0;
      for (let s = 0; s < n; s++) {
        const w = p[s] / sum;
        for (let d = 0; d < rank; d++) out[qo + d] += w * cCache[s * rank + d];
      }
    }
  }
}

export const refKernels: Kernels = {
  name: "ref",
  matmul,
  matmulMany,
  ffn,
  rmsnorm,
  rope,
  swiglu,
  attention,
  mlaAttention,
};

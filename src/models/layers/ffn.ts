// SwiGLU feed-forward: down(silu(gate(x)) * up(x)). Used by dense layers, MoE experts and shared experts.

import type { Kernels } from "../../kernels/kernels.js";
import type { Weight } from "../../kernels/weight.js";

export interface FfnWeights {
  gate: Weight; // [inter, hidden]
  up: Weight; // [inter, hidden]
  down: Weight; // [hidden, inter]
}

/** out[T, hidden] = FFN(h[T, hidden]). */
export function swigluFfn(k: Kernels, w: FfnWeights, h: Float32Array, T: number, out: Float32Array): void {
  const inter = w.gate.rows;
  const g = new Float32Array(T * inter);
  const u = new Float32Array(T * inter);
  k.matmul(g, h, w.gate, T);
  k.matmul(u, h, w.up, T);
  k.swiglu(g, g, u, T * inter);
  k.matmul(out, g, w.down, T);
}

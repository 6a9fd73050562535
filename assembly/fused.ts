// Kernels that let one pool job do what several would: mm_multi runs the matmuls of several weights that read the
// same input (attention's q/k/v, the FFN's gate/up) as one row range, after one quantization of that input;
// swiglu runs on the arena in place, so the FFN's intermediate never leaves wasm memory.

import { exp4 } from "./common";
import { mm_bf16, mm_f16, mm_f32 } from "./float_dot";
import { mm_q4_k, mm_q6_k } from "./kquant_dot";
import { mm_q4_0, mm_q8_0 } from "./quant_dot";

/** out[i] = silu(g[i]) * u[i] = g u / (1 + e^-g) for i in [i0, i1) (multiples of 4 except the last piece). */
export function swiglu(g: usize, u: usize, out: usize, i0: i32, i1: i32): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const den = f32x4.add(f32x4.splat(1.0), exp4(f32x4.neg(gv)));
    v128.store(out + o, f32x4.div(f32x4.mul(gv, v128.load(u + o)), den));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const gv = load<f32>(g + o);
    const den: f32 = 1.0 + f32x4.extract_lane(exp4(f32x4.splat(-gv)), 0);
    store<f32>(out + o, (gv * load<f32>(u + o)) / den);
  }
}

/** Bytes of one mm_multi descriptor: i32 kind, w, stride, first global row, rows, out. */
export const DESC_BYTES: i32 = 32;

/**
 * Rows [r0, r1) of the concatenation of nd weight matrices (descriptors at desc) times the same input: x f32
 * for the float kinds, its Q8 blocks (q8, q16, d, s, from quantize_q8) for the quantized ones. Descriptor j's
 * rows [lo, hi) are matrix j's rows [lo - first, hi - first), written to its own out [T, rows].
 * Kinds: 0 q8_0, 1 q4_0, 2 q4_k, 3 q6_k, 4 f32, 5 bf16, 6 f16.
 */
export function mm_multi(desc: usize, nd: i32, r0: i32, r1: i32, n: i32, x: usize, q8: usize, q16: usize, d: usize, s: usize, T: i32, qx: usize, scratch: usize): void {
  for (let j = 0; j < nd; j++) {
    const p = desc + <usize>(j * DESC_BYTES);
    const first = load<i32>(p, 12);
    const rows = load<i32>(p, 16);
    const lo = max(r0, first) - first;
    const hi = min(r1, first + rows) - first;
    if (lo >= hi) continue;
    const w = <usize>load<u32>(p, 4);
    const stride = load<i32>(p, 8);
    const out = <usize>load<u32>(p, 20);
    switch (load<i32>(p)) {
      case 0: mm_q8_0(w, stride, lo, hi, n, q8, q16, d, s, T, out, rows, qx, scratch); break;
      case 1: mm_q4_0(w, stride, lo, hi, n, q8, q16, d, s, T, out, rows); break;
      case 2: mm_q4_k(w, stride, lo, hi, n, q8, q16, d, s, T, out, rows); break;
      case 3: mm_q6_k(w, stride, lo, hi, n, q8, q16, d, s, T, out, rows); break;
      case 4: mm_f32(w, stride, lo, hi, n, x, T, out, rows); break;
      case 5: mm_bf16(w, stride, lo, hi, n, x, T, out, rows); break;
      case 6: mm_f16(w, stride, lo, hi, n, x, T, out, rows); break;
      default: unreachable();
    }
  }
}

// The alternating-matmul A/B shared by bench_ab (plain vs relaxed build) and bench_builds (two builds of one
// variant): each backend gets its own copies of one random matrix, untimed calls first (the pools' workers start
// asynchronously), then 20 rounds of 4 calls per backend in turn. Prints best and mean ms per call and GB/s.
import { rowBytes } from "../src/core/dtype.js";
import type { WasmKernels } from "../src/kernels/wasm.js";
import type { Weight } from "../src/kernels/weight.js";
import { randomTensor } from "./bench_models.js";

export interface AbResult {
  /** Mean ms per call, by backend name. */
  mean: Record<string, number>;
  /** Largest |difference| between the backends' outputs (the first two). */
  maxDiff: number;
}

/** `copies` > 1 cycles through that many copies of the matrix, so a decode reads its weights from memory. */
export function alternateMatmul(
  ks: Record<string, WasmKernels>,
  dtype: Weight["dtype"],
  shape: string,
  T: number,
  copies: number,
  label: string,
): AbResult {
  const [rows, cols] = shape.split("x").map(Number);
  const t = randomTensor(dtype, [rows, cols], 0.05);
  const names = Object.keys(ks);
  const ws = names.map((name) =>
    Array.from({ length: copies }, (): Weight => {
      const bytes = ks[name].alloc(t.bytes.length);
      bytes.set(t.bytes);
      return { dtype, rows, cols, bytes, rowStride: rowBytes(dtype, cols) };
    }),
  );
  const x = Float32Array.from({ length: T * cols }, (_, i) => Math.sin(i));
  const outs = names.map(() => new Float32Array(T * rows));
  for (let i = 0; i < 10; i++) for (const [j, n] of names.entries()) ks[n].matmul(outs[j], x, ws[j][i % copies], T);
  let maxDiff = 0;
  for (let i = 0; i < outs[0].length; i++) maxDiff = Math.max(maxDiff, Math.abs(outs[0][i] - outs[1][i]));
  const rounds = 20;
  const reps = 4;
  const best = names.map(() => Number.POSITIVE_INFINITY);
  const mean = names.map(() => 0);
  for (let r = 0; r < rounds; r++)
    names.forEach((n, j) => {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) ks[n].matmul(outs[j], x, ws[j][(r * reps + i) % copies], T);
      const ms = (performance.now() - t0) / reps;
      best[j] = Math.min(best[j], ms);
      mean[j] += ms / rounds;
    });
  const gbs = (ms: number) => (t.bytes.length / ms / 1e6).toFixed(1);
  for (const [j, n] of names.entries())
    console.log(
      `${dtype} ${shape} T=${T} ${label} x${copies} ${n.padEnd(7)}: best ${best[j].toFixed(3)} ms ` +
        `(${gbs(best[j])} GB/s), mean ${mean[j].toFixed(3)} ms (${gbs(mean[j])} GB/s)`,
    );
  return { mean: Object.fromEntries(names.map((n, j) => [n, mean[j]])), maxDiff };
}

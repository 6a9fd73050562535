// A/B of the two kernel builds in one process: the plain SIMD and the relaxed-SIMD backends take turns on one
// matmul shape, 20 rounds, and the best and mean ms per call of each are printed. Separate processes are no way
// to compare builds on a noisy host (session 11 saw one build "lose" 10% run to run and win 1.3x alternating).
// `node dist/tools/bench_ab.js DTYPE ROWSxCOLS [T] [threads] [copies]`; copies > 1 cycles through that many
// copies of the matrix, so a decode matvec reads its weights from memory rather than L3.
import { rowBytes } from "../src/core/dtype.js";
import { type WasmKernels, wasmKernels } from "../src/kernels/wasm.js";
import type { Weight } from "../src/kernels/weight.js";
import { randomTensor } from "./bench_models.js";

const [dtypeArg = "q8_0", shape = "8960x1536", tArg = "1", thrArg = "1", copiesArg = "1"] = process.argv.slice(2);
const dtype = dtypeArg as Weight["dtype"];
const [rows, cols] = shape.split("x").map(Number);
const T = Number(tArg);
const copies = Number(copiesArg);
const ks: Record<string, WasmKernels> = {
  simd: wasmKernels({ threads: Number(thrArg), variant: "simd" }),
  relaxed: wasmKernels({ threads: Number(thrArg), variant: "relaxed" }),
};
const t = randomTensor(dtype, [rows, cols], 0.05);
const ws: Record<string, Weight[]> = {};
for (const [name, k] of Object.entries(ks))
  ws[name] = Array.from({ length: copies }, (): Weight => {
    const bytes = k.alloc(t.bytes.length);
    bytes.set(t.bytes);
    return { dtype, rows, cols, bytes, rowStride: rowBytes(dtype, cols) };
  });
const x = Float32Array.from({ length: T * cols }, (_, i) => Math.sin(i));
const out = new Float32Array(T * rows);
// Untimed calls first: the pool's workers start asynchronously.
for (let i = 0; i < 10; i++) for (const name of Object.keys(ks)) ks[name].matmul(out, x, ws[name][i % copies], T);
const rounds = 20;
const reps = 4;
const best: Record<string, number> = { simd: Number.POSITIVE_INFINITY, relaxed: Number.POSITIVE_INFINITY };
const mean: Record<string, number> = { simd: 0, relaxed: 0 };
for (let r = 0; r < rounds; r++)
  for (const name of Object.keys(ks)) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) ks[name].matmul(out, x, ws[name][(r * reps + i) % copies], T);
    const ms = (performance.now() - t0) / reps;
    best[name] = Math.min(best[name], ms);
    mean[name] += ms / rounds;
  }
const gbs = (ms: number) => (t.bytes.length / ms / 1e6).toFixed(1);
for (const name of Object.keys(ks))
  console.log(
    `${dtype} ${shape} T=${T} ${thrArg} thr x${copies} ${name.padEnd(7)}: best ${best[name].toFixed(3)} ms ` +
      `(${gbs(best[name])} GB/s), mean ${mean[name].toFixed(3)} ms (${gbs(mean[name])} GB/s)`,
  );
console.log(`relaxed / simd speed (means): ${(mean.simd / mean.relaxed).toFixed(2)}x`);
for (const k of Object.values(ks)) k.close();

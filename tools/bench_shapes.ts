// Prefill matmul GMAC/s by weight shape (rows x cols) and token count, one process, WASM backend:
// `node dist/tools/bench_shapes.js [threads] [dtype] [T] [rows x cols,...]`. For judging a kernel change on the
// shapes a model really runs (the 1.5B's gate/up 8960x1536 and down 1536x8960 differ in what stays in L1).
import { rowBytes } from "../src/core/dtype.js";
import { wasmKernels } from "../src/kernels/wasm.js";
import type { Weight } from "../src/kernels/weight.js";
import { randomTensor } from "./bench_models.js";

const threads = Number(process.argv[2] ?? 2);
const dtype = (process.argv[3] ?? "q8_0") as Weight["dtype"];
const T = Number(process.argv[4] ?? 512);
const shapes = (process.argv[5] ?? "8960x1536,1536x8960,1536x1536,2048x1536")
  .split(",")
  .map((s) => s.split("x").map(Number));
const k = wasmKernels({ threads });
// COPIES=n: n copies of each matrix in turn (a decode step's weights come from memory, not L3). Each shape
// runs 10 untimed calls first: the pool's workers start asynchronously, and the first calls run on fewer threads.
const copies = Number(process.env.COPIES ?? 1);
for (const [rows, cols] of shapes) {
  const ws = Array.from({ length: copies }, (): Weight => {
    const t = randomTensor(dtype, [rows, cols], 0.05);
    const bytes = k.alloc(t.bytes.length);
    bytes.set(t.bytes);
    return { dtype, rows, cols, bytes, rowStride: rowBytes(dtype, cols) };
  });
  const x = Float32Array.from({ length: T * cols }, (_, i) => Math.sin(i));
  const out = new Float32Array(T * rows);
  for (let i = 0; i < 10; i++) k.matmul(out, x, ws[i % copies], T);
  const reps = Math.max(5, 2 * copies);
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) k.matmul(out, x, ws[i % copies], T);
  const ms = (performance.now() - t0) / reps;
  console.log(
    `${dtype} ${rows}x${cols} T=${T} ${threads} thr: ${((rows * cols * T) / ms / 1e6).toFixed(1)} GMAC/s, ` +
      `${(ws[0].bytes.length / ms / 1e6).toFixed(1)} GB/s of weights (${ms.toFixed(2)} ms)`,
  );
}
// The fused feed-forward (gate+up, swiglu, down) on 8960x1536 weights: what the model's prefill runs.
if (process.env.FFN) {
  const mk = (rows: number, cols: number): Weight => {
    const t = randomTensor(dtype, [rows, cols], 0.05);
    const bytes = k.alloc(t.bytes.length);
    bytes.set(t.bytes);
    return { dtype, rows, cols, bytes, rowStride: rowBytes(dtype, cols) };
  };
  // FFN=n: n layers' distinct weights in turn, so each call streams its weights from memory as a model does.
  const ws = Array.from({ length: Number(process.env.FFN) }, () => ({
    gate: mk(8960, 1536),
    up: mk(8960, 1536),
    down: mk(1536, 8960),
  }));
  const xs = Number(process.env.XSCALE ?? 1);
  const x = Float32Array.from({ length: T * 1536 }, (_, i) => xs * Math.sin(i));
  const out = new Float32Array(T * 1536);
  for (let i = 0; i < ws.length; i++) {
    const t0 = performance.now();
    k.ffn(out, x, ws[i], T);
    if (process.env.COLD) console.log(`first call on weights ${i}: ${(performance.now() - t0).toFixed(1)} ms`);
  }
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < Math.max(3, ws.length); i++) {
    const t0 = performance.now();
    k.ffn(out, x, ws[i % ws.length], T);
    best = Math.min(best, performance.now() - t0);
  }
  console.log(
    `ffn ${dtype} T=${T} ${threads} thr: ${((3 * 8960 * 1536 * T) / best / 1e6).toFixed(1)} GMAC/s (${best.toFixed(1)} ms)`,
  );
}
k.close();

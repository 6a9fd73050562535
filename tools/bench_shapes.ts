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
for (const [rows, cols] of shapes) {
  const t = randomTensor(dtype, [rows, cols], 0.05);
  const bytes = k.alloc(t.bytes.length);
  bytes.set(t.bytes);
  const w: Weight = { dtype, rows, cols, bytes, rowStride: rowBytes(dtype, cols) };
  const x = Float32Array.from({ length: T * cols }, (_, i) => Math.sin(i));
  const out = new Float32Array(T * rows);
  k.matmul(out, x, w, T);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    k.matmul(out, x, w, T);
    best = Math.min(best, performance.now() - t0);
  }
  console.log(
    `${dtype} ${rows}x${cols} T=${T} ${threads} thr: ${((rows * cols * T) / best / 1e6).toFixed(1)} GMAC/s (${best.toFixed(1)} ms)`,
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

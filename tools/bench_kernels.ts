// Kernel microbenchmark: one FFN-sized matmul (8960 x 1536, the 1.5B model's gate/up) per weight dtype, as a
// decode matvec (GB/s of weights streamed) and as a prefill matmul (GMAC/s), on the WASM backend, checked
// against the reference first. `node dist/tools/bench_kernels.js [threads] [dtype,...]`.

import { rowBytes } from "../src/core/dtype.js";
import { refKernels } from "../src/kernels/ref.js";
import { wasmKernels } from "../src/kernels/wasm.js";
import type { Weight } from "../src/kernels/weight.js";
import { randomTensor } from "./bench_models.js";

const threads = Number(process.argv[2] ?? 2);
const dtypes = (process.argv[3] ?? "q8_0,q4_k,q6_k,bf16,f16,f8_e4m3").split(",") as Weight["dtype"][];
const rows = 8960;
const cols = 1536;
const k = wasmKernels({ threads });

function time(f: () => void, reps: number): number {
  f();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best / 1000;
}

for (const dtype of dtypes) {
  const t = randomTensor(dtype, [rows, cols], 0.05);
  const bytes = k.alloc(t.bytes.length);
  bytes.set(t.bytes);
  const w: Weight = { dtype, rows, cols, bytes, rowStride: rowBytes(dtype, cols) };
  if (dtype === "f8_e4m3") w.scale = new Float32Array(Math.ceil(rows / 128) * Math.ceil(cols / 128)).fill(1e-3);
  const x = Float32Array.from({ length: 64 * cols }, (_, i) => Math.sin(i));
  const a = new Float32Array(rows);
  const b = new Float32Array(rows);
  refKernels.matmul(a, x, w, 1);
  k.matmul(b, x, w, 1);
  let err = 0;
  let mag = 0;
  for (let i = 0; i < rows; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    mag = Math.max(mag, Math.abs(a[i]));
  }
  const out = new Float32Array(64 * rows);
  const dec = time(() => k.matmul(b, x, w, 1), 20);
  const pre = time(() => k.matmul(out, x, w, 64), 3);
  console.log(
    `${dtype.padEnd(8)} ${threads} thr  decode ${(w.bytes.length / dec / 1e9).toFixed(1).padStart(5)} GB/s ` +
      `(${(dec * 1e3).toFixed(2)} ms)  prefill T=64 ${((rows * cols * 64) / pre / 1e9).toFixed(1).padStart(5)} GMAC/s  ` +
      `max|Δ| ${err.toExponential(1)} of ${mag.toFixed(2)}`,
  );
}
k.close();

// A/B of the two kernel builds in one process: the plain SIMD and the relaxed-SIMD backends take turns on one
// matmul shape, 20 rounds, and the best and mean ms per call of each are printed. Separate processes are no way
// to compare builds on a noisy host (session 11 saw one build "lose" 10% run to run and win 1.3x alternating).
// `node dist/tools/bench_ab.js DTYPE ROWSxCOLS [T] [threads] [copies]`; copies > 1 cycles through that many
// copies of the matrix, so a decode matvec reads its weights from memory rather than L3.
import { wasmKernels } from "../src/kernels/wasm.js";
import type { Weight } from "../src/kernels/weight.js";
import { alternateMatmul } from "./ab_matmul.js";

const [dtypeArg = "q8_0", shape = "8960x1536", tArg = "1", thrArg = "1", copiesArg = "1"] = process.argv.slice(2);
const ks = {
  simd: wasmKernels({ threads: Number(thrArg), variant: "simd" }),
  relaxed: wasmKernels({ threads: Number(thrArg), variant: "relaxed" }),
};
const { mean } = alternateMatmul(
  ks,
  dtypeArg as Weight["dtype"],
  shape,
  Number(tArg),
  Number(copiesArg),
  `${thrArg} thr`,
);
console.log(`relaxed / simd speed (means): ${(mean.simd / mean.relaxed).toFixed(2)}x`);
for (const k of Object.values(ks)) k.close();

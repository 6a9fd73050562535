// A/B of two kernel builds of the *same* variant in one process, the only fair comparison on a noisy host
// (session 11: one build "lost" 10% run to run and won 1.3x alternating). Copy each build's r1ts-<variant>.wasm
// into its own folder (a build missing from a folder is read from build/ as usual), then
//   node dist/tools/bench_builds.js DIR_A DIR_B mm DTYPE RxC [T] [threads] [copies]
//   node dist/tools/bench_builds.js DIR_A DIR_B model FILE [threads] [prompt] [gen] [rounds]
// mm alternates one matmul shape (20 rounds of 4 calls; copies > 1 cycles through copies of the matrix so that a
// decode reads from memory, not L3); model loads the checkpoint once per build and alternates prefill + greedy
// decode rounds. fs.readFileSync is patched (with syncBuiltinESMExports, before the kernels' module loads) so
// that each wasmKernels() call compiles the build of the folder that is current at that moment.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { join } from "node:path";

const [dirA, dirB, mode = "mm", ...rest] = process.argv.slice(2);
if (!dirA || !dirB) {
  console.error(
    "usage: bench_builds DIR_A DIR_B mm DTYPE RxC [T] [threads] [copies] | model FILE [thr] [prompt] [gen] [rounds]",
  );
  process.exit(2);
}
const original = fs.readFileSync;
let slot = dirA;
const patched = (path: fs.PathOrFileDescriptor, options?: unknown) => {
  const p = typeof path === "string" && /r1ts-(simd|relaxed)\.wasm$/.exec(path);
  // biome-ignore lint/suspicious/noExplicitAny: forwarding readFileSync's overloads unchanged
  return (original as any)(p && fs.existsSync(join(slot, p[0])) ? join(slot, p[0]) : path, options);
};
fs.readFileSync = patched as typeof fs.readFileSync;
syncBuiltinESMExports();

const { wasmKernels } = await import("../src/kernels/wasm.js");
const dirs = [dirA, dirB];
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const f2 = (a: number[]) => a.map((v) => v.toFixed(2)).join(" ");

if (mode === "mm") {
  const { alternateMatmul } = await import("./ab_matmul.js");
  const [dt = "q8_0", shape = "8960x1536", tArg = "1", thr = "2", cp = "1"] = rest;
  const ks = Object.fromEntries(
    dirs.map((d, j) => {
      slot = d;
      return ["AB"[j], wasmKernels({ threads: Number(thr) })];
    }),
  );
  type DType = import("../src/kernels/weight.js").Weight["dtype"];
  const r = alternateMatmul(ks, dt as DType, shape, Number(tArg), Number(cp), `thr=${thr}`);
  console.log(`B / A speed (means): ${(r.mean.A / r.mean.B).toFixed(3)}x; max |A - B| ${r.maxDiff}`);
  for (const k of Object.values(ks)) k.close();
} else {
  const { loadForBench } = await import("./bench_load.js");
  const [file, thr = "2", np = "64", ng = "32", rd = "4"] = rest;
  const models = dirs.map((d) => {
    slot = d;
    return loadForBench(file, wasmKernels({ threads: Number(thr) })).model;
  });
  const toks = Array.from({ length: Number(np) }, (_, i) => 1000 + ((i * 7919) % 50000));
  const argmax = (v: Float32Array) => v.reduce((b, x, i) => (x > v[b] ? i : b), 0);
  const pre: number[][] = [[], []];
  const dec: number[][] = [[], []];
  for (let r = 0; r < Number(rd); r++)
    models.forEach((m, j) => {
      const cache = m.newCache(Number(np) + Number(ng) + 8);
      let t0 = performance.now();
      let logits = m.forward(toks, cache);
      pre[j].push(Number(np) / ((performance.now() - t0) / 1000));
      t0 = performance.now();
      for (let i = 0; i < Number(ng); i++) logits = m.forward([argmax(logits)], cache);
      dec[j].push(Number(ng) / ((performance.now() - t0) / 1000));
    });
  for (let j = 0; j < 2; j++) console.log(`${"AB"[j]} prefill tok/s ${f2(pre[j])} | decode tok/s ${f2(dec[j])}`);
  console.log(
    `B / A (means): prefill ${(mean(pre[1]) / mean(pre[0])).toFixed(3)}x, decode ${(mean(dec[1]) / mean(dec[0])).toFixed(3)}x`,
  );
  process.exit(0); // the pools' workers would keep the process alive
}

// Where a decode step's time goes: wraps the kernels in per-op timers (matmul split by weight shape), loads a
// bench model, prefills a prompt and times greedy decode steps; with gen 0 it times the prefill instead (per
// prompt token). node dist/tools/prof_decode.js FILE [threads] [prompt] [gen]; env COLD, PER_CALL (below).
import type { Kernels } from "../src/kernels/kernels.js";
import { wasmKernels } from "../src/kernels/wasm.js";
import { loadForBench } from "./bench_load.js";

const [file, thr = "2", np = "64", ng = "32"] = process.argv.slice(2);
const k = wasmKernels({ threads: Number(thr) });
const times = new Map<string, { ms: number; n: number; min: number }>();
let on = false;
const timed = new Proxy(k, {
  get(target, prop, recv) {
    const v = Reflect.get(target, prop, recv);
    if (typeof v !== "function" || prop === "alloc") return typeof v === "function" ? v.bind(target) : v;
    return (...args: unknown[]) => {
      if (!on) return v.apply(target, args);
      const t0 = performance.now();
      const r = v.apply(target, args);
      const dt = performance.now() - t0;
      if (process.env.PER_CALL === prop) console.log(`${String(prop)} ${dt.toFixed(1)} ms`);
      let key = String(prop);
      if (prop === "matmul") {
        const w = args[2] as { rows: number; cols: number; dtype: string };
        key = `matmul ${w.dtype} ${w.rows}x${w.cols}`;
      }
      const e = times.get(key) ?? { ms: 0, n: 0, min: 1e9 };
      e.min = Math.min(e.min, dt);
      e.ms += dt;
      e.n++;
      times.set(key, e);
      return r;
    };
  },
}) as Kernels;
const { model } = loadForBench(file, timed);
const toks = Array.from({ length: Number(np) }, (_, i) => 1000 + ((i * 7919) % 50000));
const cache = model.newCache(Number(np) + Number(ng) + 8);
const prefillOnly = Number(ng) === 0;
// A prefill profile times the second prefill (on a fresh cache), as the bench's best-of-rounds does: the first
// in a process ran every layer's feed-forward ~12% slower (452 vs 395 ms at 512 tokens; not Liftoff tier-up,
// which --no-liftoff did not change, and an isolated ffn's first call on fresh weights is not slow). COLD=1
// times the first one instead; PER_CALL=op prints each call of one op.
if (prefillOnly && !process.env.COLD) model.forward(toks, model.newCache(Number(np) + 8));
on = prefillOnly;
const tp = performance.now();
let logits = model.forward(toks, cache);
const prefillMs = performance.now() - tp;
const argmax = (v: Float32Array) => {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[b]) b = i;
  return b;
};
on = !prefillOnly;
const t0 = performance.now();
for (let i = 0; i < Number(ng); i++) logits = model.forward([argmax(logits)], cache);
const total = prefillOnly ? prefillMs : performance.now() - t0;
const per = prefillOnly ? Number(np) : Number(ng);
let sum = 0;
const rows = [...times].sort((a, b) => b[1].ms - a[1].ms);
for (const [key, e] of rows) {
  sum += e.ms;
  console.log(
    `${key.padEnd(36)} ${(e.ms / per).toFixed(2).padStart(8)} ms/tok  ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${((e.ms * 1000) / e.n).toFixed(1)} us/call (min ${(e.min * 1000).toFixed(1)})`,
  );
}
console.log(
  `other (model JS) ${((total - sum) / per).toFixed(2)} ms/tok; total ${(total / per).toFixed(2)} ms/tok = ${((1000 * per) / total).toFixed(2)} tok/s`,
);
k.close();

// `npm run bench`: r1ts's WASM kernels against node-llama-cpp on the same random-weight GGUF files, the same
// thread count, alternating in one run; plus BF16 safetensors against the measured bandwidth limit and an FP8
// MoE at 8 vs 64 routed experts. Prints one table. Environment:
//   R1TS_BENCH_THREADS (default 2)   R1TS_BENCH_ROUNDS (default 2: best of, alternating engines)
//   R1TS_BENCH_PROMPT (512)          R1TS_BENCH_GEN (128)      R1TS_BENCH_ONLY (comma list of row keys)
//   R1TS_BENCH_DIR (.cache/bench)
// Row keys: qwen1.5b-q8_0, qwen1.5b-q4_k_m, qwen1.5b-f16, qwen1.5b-bf16, v3-fp8-e8, v3-fp8-e64, and qwen7b-q8_0
// (R1-Distill-Qwen-7B's shapes at Q8_0, ~8.1 GB: more than one 4 GiB wasm32 memory; only when ONLY names it).

import { mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type WasmKernels, wasmKernels } from "../src/kernels/wasm.js";
import type { CausalLM } from "../src/models/model.js";
import { type Loaded, loadForBench } from "./bench_load.js";
import { QWEN_1_5B, QWEN_7B, type QwenShape, qwenBf16, qwenGguf, v3Moe } from "./bench_models.js";

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const THREADS = env("R1TS_BENCH_THREADS", 2);
const ROUNDS = env("R1TS_BENCH_ROUNDS", 2);
const PROMPT = env("R1TS_BENCH_PROMPT", 512);
const GEN = env("R1TS_BENCH_GEN", 128);
const DIR = process.env.R1TS_BENCH_DIR ?? join(process.cwd(), ".cache", "bench");
const ONLY = process.env.R1TS_BENCH_ONLY?.split(",");

interface Row {
  model: string;
  engine: string;
  threads: number;
  prefill: number; // tok/s
  decode: number; // tok/s
  ratioPrefill?: number;
  ratioDecode?: number;
  gbps: number; // decode bytes/s / 1e9
  note?: string;
}

function prompt(vocab: number, n: number): number[] {
  let s = 12345;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return 1000 + (s % (vocab - 2000));
  });
}

function argmax(v: Float32Array): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[b]) b = i;
  return b;
}

/** One engine's tokens/s over a round. */
interface Timing {
  prefill: number;
  decode: number;
}

/** Prefill PROMPT tokens, then GEN greedy decode steps: tokens/s for each phase. */
function timeR1(model: CausalLM, nPrompt = PROMPT, nGen = GEN): Timing {
  const toks = prompt(model.config.vocabSize, nPrompt);
  const cache = model.newCache(nPrompt + nGen + 8);
  let t0 = performance.now();
  let logits = model.forward(toks, cache);
  const prefill = nPrompt / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  for (let i = 0; i < nGen; i++) logits = model.forward([argmax(logits)], cache);
  const decode = nGen / ((performance.now() - t0) / 1000);
  return { prefill, decode };
}

// ---- node-llama-cpp (optional dev dependency) ---------------------------------------------------------------------

interface LlamaRunner {
  time(): Promise<Timing>;
  dispose(): Promise<void>;
}

async function llamaRunner(file: string, vocab: number): Promise<LlamaRunner | string> {
  let mod: { getLlama: (o: object) => Promise<unknown> } | undefined;
  // The dev dependency, or a private install beside the bench cache (npm i --prefix .cache/bench-deps ...),
  // which a later `npm install` in the project cannot prune.
  for (const spec of [
    "node-llama-cpp",
    pathToFileURL(join(DIR, "..", "bench-deps", "node_modules", "node-llama-cpp", "dist", "index.js")).href,
  ]) {
    try {
      mod = (await import(spec)) as typeof mod;
      break;
    } catch {}
  }
  if (!mod) return "node-llama-cpp not installed (npm i -D node-llama-cpp)";
  // biome-ignore lint/suspicious/noExplicitAny: node-llama-cpp is an optional dependency without types here
  const llama: any = await mod.getLlama({ gpu: false, build: "never", logLevel: "error" });
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  const context = await model.createContext({
    contextSize: PROMPT + GEN + 64,
    batchSize: PROMPT,
    threads: { ideal: THREADS, min: THREADS },
    sequences: 1,
  });
  const toks = prompt(vocab, PROMPT);
  return {
    async time() {
      const seq = context.getSequence();
      try {
        let t0 = performance.now();
        await seq.evaluateWithoutGeneratingNewTokens(toks);
        const prefill = PROMPT / ((performance.now() - t0) / 1000);
        t0 = performance.now();
        let n = 0;
        for await (const _ of seq.evaluate([toks[PROMPT - 1]], { temperature: 0 })) if (++n >= GEN) break;
        const decode = GEN / ((performance.now() - t0) / 1000);
        return { prefill, decode };
      } finally {
        seq.dispose();
      }
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

// ---- runs ------------------------------------------------------------------------------------------------------

function best(a: Timing, b?: Timing) {
  return b ? { prefill: Math.max(a.prefill, b.prefill), decode: Math.max(a.decode, b.decode) } : a;
}

async function ggufRow(
  key: string,
  kind: "q8_0" | "q4_k_m" | "f16",
  k: WasmKernels,
  rows: Row[],
  scaling: boolean,
  shape: QwenShape = QWEN_1_5B,
) {
  const file = qwenGguf(DIR, kind, shape);
  const loaded: Loaded = loadForBench(file, k);
  const llama = await llamaRunner(file, loaded.model.config.vocabSize);
  let r1: Timing | undefined;
  let ll: Timing | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    k.setThreads(THREADS);
    const a = timeR1(loaded.model);
    r1 = best(a, r1);
    const b = typeof llama !== "string" ? await llama.time() : undefined;
    if (b) ll = best(b, ll);
    roundLine(key, r, a, b);
  }
  const gb = loaded.activeBytes / 1e9;
  if (r1) {
    rows.push({
      model: key,
      engine: `r1ts ${k.variant}`,
      threads: THREADS,
      ...r1,
      gbps: r1.decode * gb,
      ratioPrefill: ll ? r1.prefill / ll.prefill : undefined,
      ratioDecode: ll ? r1.decode / ll.decode : undefined,
    });
  }
  if (ll) rows.push({ model: key, engine: "llama.cpp", threads: THREADS, ...ll, gbps: ll.decode * gb });
  else
    rows.push({
      model: key,
      engine: "llama.cpp",
      threads: THREADS,
      prefill: 0,
      decode: 0,
      gbps: 0,
      note: llama as string,
    });
  if (scaling) {
    k.setThreads(1);
    const one = timeR1(loaded.model, Math.min(PROMPT, 128), Math.min(GEN, 32));
    rows.push({
      model: key,
      engine: `r1ts ${k.variant}`,
      threads: 1,
      ...one,
      gbps: one.decode * gb,
      note: `prompt ${Math.min(PROMPT, 128)}, gen ${Math.min(GEN, 32)}`,
    });
    k.setThreads(THREADS);
  }
  if (typeof llama !== "string") await llama.dispose();
}

/** One round's figures on stderr (the table keeps only the best round). */
function roundLine(key: string, r: number, a: Timing, b?: Timing): void {
  const llama = b ? `, llama.cpp ${fmt(b.prefill)} / ${fmt(b.decode)}` : "";
  process.stderr.write(
    `bench: ${key} round ${r + 1}: r1ts ${fmt(a.prefill)} / ${fmt(a.decode)}${llama} tok/s (prefill / decode)\n`,
  );
}

function r1Row(key: string, path: string, k: WasmKernels, rows: Row[], note?: string): void {
  const loaded = loadForBench(path, k);
  let r1: Timing | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    const a = timeR1(loaded.model);
    roundLine(key, r, a);
    r1 = best(a, r1);
  }
  rows.push({
    model: key,
    engine: `r1ts ${k.variant}`,
    threads: THREADS,
    ...r1!,
    gbps: r1!.decode * (loaded.activeBytes / 1e9),
    note,
  });
}

function fmt(n: number | undefined, d = 1): string {
  return n === undefined || n === 0 ? "-" : n.toFixed(d);
}

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const want = (key: string) => !ONLY || ONLY.includes(key);
  const bwK = wasmKernels({ threads: THREADS, scratchBytes: 1 << 20 });
  const bw: number[] = [];
  for (let t = 1; t <= THREADS; t++) {
    bwK.setThreads(t);
    bw[t] = bwK.measureReadBandwidth(1 << 30) / 1e9;
  }
  bwK.close();
  console.log(
    `memory read bandwidth (wasm SIMD loads): ${bw
      .slice(1)
      .map((b, i) => `${i + 1} thread(s) ${b.toFixed(1)} GB/s`)
      .join(", ")}`,
  );
  // The best figure any thread count reached: the limit decode throughput is measured against.
  const limit = Math.max(...bw.slice(1));

  const rows: Row[] = [];
  const run = async (key: string, f: (k: WasmKernels) => Promise<void> | void) => {
    if (!want(key)) return;
    const k = wasmKernels({ threads: THREADS });
    try {
      await f(k);
    } finally {
      k.close();
    }
    print(rows, limit);
  };
  await run("qwen1.5b-q8_0", (k) => ggufRow("qwen1.5b-q8_0", "q8_0", k, rows, true));
  await run("qwen1.5b-q4_k_m", (k) => ggufRow("qwen1.5b-q4_k_m", "q4_k_m", k, rows, false));
  await run("qwen1.5b-f16", (k) => ggufRow("qwen1.5b-f16", "f16", k, rows, false));
  await run("qwen1.5b-bf16", (k) => r1Row("qwen1.5b-bf16 (safetensors)", qwenBf16(DIR), k, rows));
  await run("v3-fp8-e8", (k) => r1Row("v3-fp8 MoE 8 experts", v3Moe(DIR, 8), k, rows, "topK 4 + 1 shared"));
  await run("v3-fp8-e64", (k) => r1Row("v3-fp8 MoE 64 experts", v3Moe(DIR, 64), k, rows, "topK 4 + 1 shared"));
  if (ONLY?.includes("qwen7b-q8_0"))
    await run("qwen7b-q8_0", (k) => ggufRow("qwen7b-q8_0", "q8_0", k, rows, false, QWEN_7B));
}

function print(rows: Row[], limit: number): void {
  const head = [
    "model",
    "engine",
    "thr",
    "prefill tok/s",
    "decode tok/s",
    "x llama pf",
    "x llama dec",
    "GB/s",
    "% bw",
    "note",
  ];
  const body = rows.map((r) => [
    r.model,
    r.engine,
    String(r.threads),
    fmt(r.prefill),
    fmt(r.decode),
    fmt(r.ratioPrefill, 2),
    fmt(r.ratioDecode, 2),
    fmt(r.gbps),
    r.gbps ? `${((100 * r.gbps) / limit).toFixed(0)}%` : "-",
    r.note ?? "",
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(w[i])).join(" | ")} |`;
  console.log(`\n${line(head)}\n|${w.map((n) => "-".repeat(n + 2)).join("|")}|\n${body.map(line).join("\n")}`);
  console.log(
    `(prompt ${PROMPT} tokens, ${GEN} decode steps, best of ${ROUNDS}; % bw against ${limit.toFixed(1)} GB/s, the best measured read bandwidth)`,
  );
  // The host itself: these machines change between sessions (a 2-core Zen 4 gave 45.7 GB/s, a 2-core Xeon
  // 18-23), and only ratios from one run compare.
  const cpu = cpus();
  const mhz = cpu[0]?.speed ? ` at ${cpu[0].speed} MHz` : ""; // 0 where the VM hides it
  console.log(`host: ${cpu.length} x ${cpu[0]?.model ?? "?"}${mhz}, node ${process.version}`);
}

await main();

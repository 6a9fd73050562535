// The evaluation loop: items x samples become units of work (one per item for log-likelihood, which is
// deterministic), skipped when already stored, run by a pool of `concurrency` workers, each answer scored
// and appended to responses.jsonl as it finishes. A failing request (after the client's retries) becomes a
// record with `error`, never an exception out of the run. Results and the report are rebuilt from the file.
//
// Sampling follows the R1 protocol by default (temperature 0.6, top-p 0.95, K samples, pass@1 = mean over
// samples). Each unit's seed is derived from (run seed, item id, sample index), so a resumed or re-ordered
// run asks exactly what an uninterrupted one would.

import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Backend, ChatOutcome, LoglikOutcome } from "./backend.js";
import { Progress } from "./progress.js";
import { renderReport } from "./report.js";
import { aggregate, type Results } from "./results.js";
import {
  appendRecord,
  type EvalRecord,
  latestByKey,
  openRun,
  type RunConfig,
  readRecords,
  writeJsonAtomic,
} from "./store.js";
import type { Item, Task } from "./tasks/task.js";

export interface RunOptions {
  task: Task;
  items: Item[];
  backend: Backend;
  config: RunConfig;
  outDir: string;
  concurrency: number;
  /** Ask again the units whose stored record is a failure (default: a resumed run asks nothing twice). */
  retryFailed?: boolean;
  /** Progress output (default stderr); null for none. */
  progress?: { isTTY?: boolean; write(s: string): boolean } | null;
  signal?: AbortSignal;
  /** Options for results.json (energy figure). */
  wattsPerCore?: number;
}

/** FNV-1a over a string: a 31-bit seed per unit. */
export function unitSeed(seed: number, id: string, sample: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}:${id}:${sample}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x7fffffff;
}

function argmax(xs: number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

interface Unit {
  item: Item;
  sample: number;
}

export async function runEval(o: RunOptions): Promise<Results> {
  const { task, backend, config, outDir } = o;
  openRun(outDir, config);
  const file = join(outDir, "responses.jsonl");
  const stored = latestByKey(readRecords(file, true));
  const done = new Set(stored.filter((r) => !(o.retryFailed && r.error)).map((r) => r.key));
  const samples = config.mode === "loglik" ? 1 : config.samples;
  const all: Unit[] = o.items.flatMap((item) => Array.from({ length: samples }, (_, sample) => ({ item, sample })));
  const todo = all.filter((u) => !done.has(`${u.item.id}#${u.sample}`));
  const progress =
    o.progress === null
      ? undefined
      : new Progress(todo.length, task.name, o.progress ?? process.stderr, all.length - todo.length);

  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < todo.length && !o.signal?.aborted) {
      const u = todo[next++];
      const rec = await runUnit(u, o);
      if (o.signal?.aborted) break; // an interrupted request is neither an answer nor a failure: leave it unasked
      appendRecord(file, rec);
      progress?.tick(!rec.error);
    }
  };
  const workers = Math.max(1, Math.min(o.concurrency, backend.maxConcurrency, todo.length));
  await Promise.all(Array.from({ length: workers }, worker));
  progress?.finish();

  const cpu = process.cpuUsage(cpu0);
  const session = { wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, units: todo.length };
  const resultsPath = join(outDir, "results.json");
  const previous = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, "utf8")) as Results) : undefined;
  const results = aggregate(readRecords(file), task, config, { session, previous, wattsPerCore: o.wattsPerCore });
  writeJsonAtomic(resultsPath, results);
  writeReport(outDir, results);
  return results;
}

export function writeReport(outDir: string, results: Results): void {
  const path = join(outDir, "report.html");
  writeFileSync(`${path}.part-${process.pid}`, renderReport([{ results, dir: outDir }], `r1 eval: ${results.task}`));
  renameSync(`${path}.part-${process.pid}`, path);
}

async function runUnit({ item, sample }: Unit, o: RunOptions): Promise<EvalRecord> {
  const { config, backend, task } = o;
  const base: EvalRecord = {
    key: `${item.id}#${sample}`,
    id: item.id,
    sample,
    task: task.name,
    mode: config.mode,
    gold: item.gold,
    groups: item.groups,
    request: {},
    latency_ms: 0,
    cpu_ms: 0,
    attempts: 1,
    time: new Date().toISOString(),
  };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const finish = (r: EvalRecord) => {
    const c = process.cpuUsage(c0);
    r.latency_ms = Math.round(performance.now() - t0);
    r.cpu_ms = Math.round((c.user + c.system) / 1000);
    return r;
  };
  try {
    if (config.mode === "loglik") {
      if (!item.mc) throw new Error(`task ${task.name} item ${item.id} has no multiple-choice form`);
      base.request = { context: item.mc.context, choices: item.mc.choices };
      const out = (await backend.loglik(item.mc.context, item.mc.choices, o.signal)) as LoglikOutcome & {
        attempts?: number;
      };
      const pred = argmax(out.sums);
      const predNorm = argmax(out.sums.map((s, i) => s / Math.max(1, item.mc!.lengths[i])));
      base.response = { sums: out.sums, counts: out.counts };
      base.usage = { prompt_tokens: out.promptTokens, completion_tokens: 0 };
      base.attempts = out.attempts ?? 1;
      base.verdict = {
        extracted: "ABCD"[pred] ?? String(pred),
        correct: pred === item.mc.gold,
        truncated: false,
        pred,
        pred_norm: predNorm,
        acc_norm: predNorm === item.mc.gold,
      };
      return finish(base);
    }
    const params = {
      temperature: config.temperature,
      topP: config.topP,
      maxTokens: config.maxTokens,
      seed: unitSeed(config.seed, item.id, sample),
    };
    base.request = { messages: item.messages, params };
    const out = (await backend.chat(item.messages, params, o.signal)) as ChatOutcome & { attempts?: number };
    if (out.renderedPrompt !== undefined) base.request.rendered_prompt = out.renderedPrompt;
    base.response = {
      text: out.text,
      reasoning: out.reasoning,
      content: out.content,
      finish_reason: out.finishReason,
      starts_in_reasoning: out.startsInReasoning,
    };
    base.usage = {
      prompt_tokens: out.promptTokens,
      completion_tokens: out.completionTokens,
      reasoning_tokens: out.reasoningTokens,
      cached_tokens: out.cachedTokens,
    };
    base.attempts = out.attempts ?? 1;
    base.verdict = task.score(item, out.text, out.startsInReasoning);
    return finish(base);
  } catch (e) {
    const err = e as Error & { attempts?: number };
    base.error = err.message ?? String(e);
    base.attempts = err.attempts ?? 1;
    return finish(base);
  }
}

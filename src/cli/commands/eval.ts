// r1 eval: benchmarks on the local engine or any OpenAI-compatible endpoint (src/eval), plus the verbs
// that work on stored runs without a model: score (rescore answers), report (rebuild results.json and
// report.html from responses.jsonl), compare (several runs side by side).

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { R1Error, usageError } from "../../core/errors.js";
import { type Backend, localBackend } from "../../eval/backend.js";
import { endpointBackend } from "../../eval/client.js";
import { runEval, writeReport } from "../../eval/harness.js";
import { renderReport } from "../../eval/report.js";
import { aggregate, type Results } from "../../eval/results.js";
import { type RunConfig, readRecords, readRunConfig } from "../../eval/store.js";
import { getTask, TASKS } from "../../eval/tasks/index.js";
import type { Item, Task } from "../../eval/tasks/task.js";
import { loadEngine } from "../../generate/engine.js";
import { KERNEL_FLAGS, KERNEL_USAGE, kernelsFrom, num, parse, required } from "../args.js";
import type { Command } from "../command.js";
import { resolveModelArg } from "../model_arg.js";

const TASK_NAMES = TASKS.map((t) => t.name).join("|");

const usage = `r1 eval --task ${TASK_NAMES} (--model PATH | --endpoint URL) --out DIR [flags]
r1 eval score --task TASK --responses FILE.jsonl [--json]
r1 eval report DIR
r1 eval compare DIR... [--html FILE] [--json]

  --model PATH          local checkpoint (folder, .gguf or hub reference)
  --endpoint URL        OpenAI-compatible base URL (http://127.0.0.1:8080 or .../v1)
  --api-key-env VAR     read the API key from environment variable VAR
  --endpoint-model ID   the "model" field to send (default: first id from GET /models)
  --out DIR             run folder: run.json, responses.jsonl, results.json, report.html (resumable)
  --limit N             first N items (per language for mgsm, per subject for mmlu, per set for content-gaps)
  --samples K           samples per item; pass@1 is their mean (default 1)
  --temperature T       default 0.6 (the R1 protocol)     --top-p P   default 0.95
  --max-tokens N        default 32768 (capped by the local context)
  --concurrency C       requests in flight against an endpoint (default 1; the local engine runs 1)
  --seed S              sampling seed, and arith's problem seed (default 0)
  --mc MODE             multiple choice: loglik | letter | auto (default: loglik locally; auto probes
                        the endpoint's completions echo+logprobs and falls back to letter answers by chat)
  --langs LIST          mgsm languages, comma-separated (default all 11)
  --data-dir DIR        read data files only from DIR (layout of shared/data)
  --data-url URL        download missing data files from this mirror (default: pinned upstream copies)
  --timeout S           per request, seconds (default 600)   --retries N   (default 3)
  --retry-failed        ask again the items stored as failed
  --ctx-size N          local context length
  --watts W             watts per busy CPU core for the energy estimate (default: the server's, docs/metering.md)
  --responses FILE      score: JSONL lines {"id": ..., "response": "..."} (or a responses.jsonl)
  --json                score/compare: machine-readable output
${KERNEL_USAGE}`;

export const command: Command = {
  name: "eval",
  summary: "benchmarks (gsm8k, math500, mmlu, hellaswag, mgsm, content-gaps, arith) locally or on an endpoint",
  usage,
  async run(argv) {
    if (argv[0] === "score") return score(argv.slice(1));
    if (argv[0] === "report") return report(argv.slice(1));
    if (argv[0] === "compare") return compare(argv.slice(1));
    return run(argv);
  },
};

async function run(argv: string[]): Promise<number> {
  const { values: v } = parse(
    argv,
    {
      task: { type: "string" },
      model: { type: "string" },
      endpoint: { type: "string" },
      "api-key-env": { type: "string" },
      "endpoint-model": { type: "string" },
      out: { type: "string" },
      limit: { type: "string" },
      samples: { type: "string" },
      temperature: { type: "string" },
      "top-p": { type: "string" },
      "max-tokens": { type: "string" },
      concurrency: { type: "string" },
      seed: { type: "string" },
      mc: { type: "string" },
      langs: { type: "string" },
      "data-dir": { type: "string" },
      "data-url": { type: "string" },
      timeout: { type: "string" },
      retries: { type: "string" },
      "retry-failed": { type: "boolean" },
      "ctx-size": { type: "string" },
      watts: { type: "string" },
      "no-pull": { type: "boolean" },
      ...KERNEL_FLAGS,
    },
    usage,
  );
  const task = getTask(required(v.task as string | undefined, "task", usage));
  const outDir = required(v.out as string | undefined, "out", usage);
  if (!v.model === !v.endpoint)
    throw usageError("give exactly one of --model PATH or --endpoint URL", `usage:\n${usage}`);
  const limit = num(v.limit as string | undefined, "limit", { int: true, min: 1 });
  const seed = num(v.seed as string | undefined, "seed", { int: true, min: 0 }) ?? 0;
  const langs = (v.langs as string | undefined)
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const onEvent = (line: string) => process.stderr.write(`${line}\n`);
  const data = { dataDir: v["data-dir"] as string | undefined, url: v["data-url"] as string | undefined, onEvent };

  let backend: Backend;
  if (v.model) {
    const path = await resolveModelArg(v.model as string, { pull: !v["no-pull"] });
    const engine = loadEngine(path, { kernels: kernelsFrom(v) });
    process.stderr.write(`loaded ${engine.name} in ${(engine.loadMs / 1000).toFixed(2)} s\n`);
    backend = localBackend(engine, {
      ctx: num(v["ctx-size"] as string | undefined, "ctx-size", { int: true, min: 1 }),
    });
  } else {
    let apiKey: string | undefined;
    const keyVar = v["api-key-env"] as string | undefined;
    if (keyVar) {
      apiKey = process.env[keyVar];
      if (!apiKey)
        throw usageError(`environment variable ${keyVar} (from --api-key-env) is not set`, `export ${keyVar}=...`);
    }
    const timeout = num(v.timeout as string | undefined, "timeout", { min: 0.001 }) ?? 600;
    backend = endpointBackend({
      url: v.endpoint as string,
      apiKey,
      model: v["endpoint-model"] as string | undefined,
      timeoutMs: timeout * 1000,
      retries: num(v.retries as string | undefined, "retries", { int: true, min: 0 }) ?? 3,
    });
  }

  const items = await task.load({ data, limit, seed, langs });
  const mode = await chooseMode(task, backend, items, (v.mc as string | undefined) ?? "auto");
  const config: RunConfig = {
    task: task.name,
    backend: backend.name,
    backendKind: backend.kind,
    mode,
    samples: num(v.samples as string | undefined, "samples", { int: true, min: 1 }) ?? 1,
    temperature: num(v.temperature as string | undefined, "temperature", { min: 0 }) ?? 0.6,
    topP: num(v["top-p"] as string | undefined, "top-p", { min: 0 }) ?? 0.95,
    maxTokens: num(v["max-tokens"] as string | undefined, "max-tokens", { int: true, min: 1 }) ?? 32768,
    seed,
    limit: limit ?? null,
    langs: langs ?? null,
  };
  const concurrency = num(v.concurrency as string | undefined, "concurrency", { int: true, min: 1 }) ?? 1;
  if (concurrency > 1 && backend.kind === "local")
    process.stderr.write("note: the local engine answers one request at a time; --concurrency is ignored\n");
  const ac = new AbortController();
  const onSigint = () => {
    process.stderr.write("\ninterrupted: finishing the stored answers; run the same command again to continue\n");
    ac.abort();
  };
  process.once("SIGINT", onSigint);
  try {
    const r = await runEval({
      task,
      items,
      backend,
      config,
      outDir,
      concurrency,
      retryFailed: Boolean(v["retry-failed"]),
      signal: ac.signal,
      wattsPerCore: num(v.watts as string | undefined, "watts", { min: 0 }),
    });
    printSummary(r, outDir);
    return ac.signal.aborted ? 130 : 0;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** Multiple choice by log-likelihood where the backend can, else by letter through chat. */
async function chooseMode(task: Task, backend: Backend, items: Item[], mc: string): Promise<RunConfig["mode"]> {
  if (!["auto", "loglik", "letter"].includes(mc)) throw usageError(`--mc must be auto, loglik or letter, got "${mc}"`);
  if (task.kind !== "choice") return "generate";
  if (mc !== "auto") return mc as RunConfig["mode"];
  if (backend.kind === "local" || !items[0]?.mc) return backend.kind === "local" ? "loglik" : "letter";
  try {
    await backend.loglik(items[0].mc.context, items[0].mc.choices.slice(0, 1));
    return "loglik";
  } catch (e) {
    process.stderr.write(
      `note: ${backend.name} gives no completions echo+logprobs (${(e as Error).message}); asking by letter through chat\n`,
    );
    return "letter";
  }
}

function printSummary(r: Results, outDir: string): void {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `${r.task} ${r.metric}: ${pct(r.score)} [95% CI ${pct(r.ci95.lo)}, ${pct(r.ci95.hi)}] over ${r.n_items} items` +
      (r.acc_norm ? `, acc_norm ${pct(r.acc_norm.score)}` : "") +
      (r.n_failed ? `, ${r.n_failed} failed` : "") +
      (r.truncation_rate ? `, ${pct(r.truncation_rate)} truncated` : ""),
  ];
  for (const [key, groups] of Object.entries(r.by)) {
    if (Object.keys(groups).length > 1 && Object.keys(groups).length <= 16)
      lines.push(
        `  by ${key}: ${Object.entries(groups)
          .map(([g, s]) => `${g} ${pct(s.score)}`)
          .join(", ")}`,
      );
  }
  lines.push(
    `  cost: ${Object.entries(r.cost_usd)
      .map(([t, c]) => `${t} $${c.toFixed(4)}`)
      .join(", ")}; energy ~${r.energy.joules.toFixed(1)} J`,
  );
  lines.push(`  ${join(outDir, "results.json")}, ${join(outDir, "report.html")}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

// ---------------------------------------------------------------------------------------------------------
// score: rescore stored answers without a model
// ---------------------------------------------------------------------------------------------------------

async function score(argv: string[]): Promise<number> {
  const { values: v } = parse(
    argv,
    {
      task: { type: "string" },
      responses: { type: "string" },
      json: { type: "boolean" },
      "data-dir": { type: "string" },
      "data-url": { type: "string" },
    },
    usage,
  );
  const task = getTask(required(v.task as string | undefined, "task", usage));
  const file = required(v.responses as string | undefined, "responses", usage);
  if (!existsSync(file)) throw new R1Error("not_found", `${file} does not exist`);
  const byId = new Map<string, Item>();
  const lines = readFileSync(file, "utf8").split("\n");
  const entries: { id: string; text: string; startsInReasoning: boolean; line: number }[] = [];
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    let o: { id?: unknown; response?: unknown };
    try {
      o = JSON.parse(l);
    } catch (e) {
      throw new R1Error("format", `${file}:${i + 1}: not JSON: ${(e as Error).message}`);
    }
    if (typeof o.id !== "string" && typeof o.id !== "number")
      throw new R1Error("format", `${file}:${i + 1}: id: missing`);
    const resp = o.response as string | { text?: string; starts_in_reasoning?: boolean } | undefined;
    const text = typeof resp === "string" ? resp : resp?.text;
    if (typeof text !== "string")
      throw new R1Error("format", `${file}:${i + 1}: response: expected a string (or {"text": ...})`);
    entries.push({
      id: String(o.id),
      text,
      startsInReasoning: typeof resp === "object" && Boolean(resp?.starts_in_reasoning),
      line: i + 1,
    });
  });
  if (!task.lookup || entries.some((e) => !task.lookup?.(e.id))) {
    const items = await task.load({
      data: { dataDir: v["data-dir"] as string | undefined, url: v["data-url"] as string | undefined },
      seed: 0,
    });
    for (const it of items) byId.set(it.id, it);
  }
  const verdicts = entries.map((e) => {
    const item = task.lookup?.(e.id) ?? byId.get(e.id);
    if (!item)
      throw new R1Error(
        "format",
        `${file}:${e.line}: id "${e.id}" is not an item of ${task.name}`,
        "ids are as in the task's data (see results.json / responses.jsonl)",
      );
    return { id: e.id, gold: item.gold, ...task.score(item, e.text, e.startsInReasoning) };
  });
  const correct = verdicts.filter((x) => x.correct).length;
  const summary = {
    task: task.name,
    n: verdicts.length,
    correct,
    accuracy: verdicts.length ? correct / verdicts.length : 0,
  };
  if (v.json) process.stdout.write(`${JSON.stringify({ ...summary, items: verdicts })}\n`);
  else {
    for (const x of verdicts)
      process.stdout.write(
        `${x.correct ? "ok  " : "FAIL"} ${x.id}  extracted=${x.extracted ?? "-"} gold=${x.gold}${x.truncated ? " (truncated)" : ""}\n`,
      );
    process.stdout.write(`${task.name}: ${correct}/${verdicts.length} (${(summary.accuracy * 100).toFixed(1)}%)\n`);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// report and compare: from stored runs
// ---------------------------------------------------------------------------------------------------------

function loadResults(dir: string): Results {
  const path = join(dir, "results.json");
  if (!existsSync(path))
    throw new R1Error(
      "not_found",
      `${path} does not exist`,
      `run r1 eval report ${dir} to rebuild it from responses.jsonl`,
    );
  return JSON.parse(readFileSync(path, "utf8")) as Results;
}

async function report(argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {}, usage);
  if (positionals.length !== 1) throw usageError("give one run folder", "r1 eval report DIR");
  const dir = positionals[0];
  const config = readRunConfig(dir);
  const previous = existsSync(join(dir, "results.json")) ? loadResults(dir) : undefined;
  const results = aggregate(readRecords(join(dir, "responses.jsonl")), getTask(config.task), config, { previous });
  writeFileSync(join(dir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeReport(dir, results);
  printSummary(results, dir);
  return 0;
}

async function compare(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, { html: { type: "string" }, json: { type: "boolean" } }, usage);
  if (positionals.length < 1) throw usageError("give one or more run folders", "r1 eval compare DIR...");
  const runs = positionals.map((dir) => ({ dir, results: loadResults(dir) }));
  if (v.json) {
    const rows = runs.map(({ dir, results: r }) => ({
      dir,
      task: r.task,
      backend: r.backend,
      metric: r.metric,
      score: r.score,
      ci95: r.ci95,
      n_items: r.n_items,
      n_failed: r.n_failed,
      cost_usd: r.cost_usd,
      energy_j: r.energy.joules,
    }));
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  } else {
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);
    for (const { dir, results: r } of runs)
      process.stdout.write(
        `${pct(r.score)} [${pct(r.ci95.lo)},${pct(r.ci95.hi)}]  ${r.task.padEnd(12)} ${r.metric.padEnd(12)} n=${String(r.n_items).padEnd(5)} ${r.backend}  ${dir}\n`,
      );
  }
  const html = (v.html as string | undefined) ?? "compare.html";
  writeFileSync(html, renderReport(runs, "r1 eval compare"));
  process.stderr.write(`wrote ${html}\n`);
  return 0;
}

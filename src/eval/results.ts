// results.json: everything the report and `r1 eval compare` show, derived from the stored records alone.
// - Score: pass@1 (generative: per item the mean over its K samples, then the mean over items), acc and
//   acc_norm (log-likelihood), or the refusal rate (content-gaps); a 95% interval (stats.ts).
// - Failed units (the endpoint never answered) are counted and left out of the scores.
// - Tokens per answer, reasoning length, latency; cost on each of the server's price tables
//   (metering/prices.ts), so an eval and a served request are priced alike; energy.
//
// Energy is an estimate, labelled with its method:
// - local runs: CPU seconds x watts per busy core, the server's figure (metering/energy.ts,
//   DEFAULT_WATTS_PER_CORE; docs/metering.md gives the sources). Pass --watts to use a measured figure.
// - endpoint runs: completion tokens x 3.5 J, the midpoint of Samsi et al. 2023 ("From Words to Watts",
//   arXiv:2310.03003: 3-4 J per output token for LLaMA-65B on V100/A100). Provider hardware is unknown,
//   so treat this as an order of magnitude.

import { DEFAULT_WATTS_PER_CORE } from "../metering/energy.js";
import { costOf, DEFAULT_PRICES, type PriceTable } from "../metering/prices.js";
import { type Interval, meanWithInterval, quantile, wilson } from "./stats.js";
import { type EvalRecord, latestByKey, type RunConfig } from "./store.js";
import type { Task } from "./tasks/task.js";

export const WATTS_PER_CORE = DEFAULT_WATTS_PER_CORE;
export const JOULES_PER_OUTPUT_TOKEN = 3.5;

export const PRICE_TABLES: Record<string, PriceTable> = Object.fromEntries(DEFAULT_PRICES.map((p) => [p.name, p]));

export interface GroupScore {
  n: number;
  score: number;
  ci95: Interval;
}

export interface Summary {
  mean: number;
  p50: number;
  p90: number;
  max: number;
}

export interface Results {
  task: string;
  backend: string;
  mode: RunConfig["mode"];
  config: RunConfig;
  metric: "pass@1" | "acc" | "refusal_rate";
  score: number;
  ci95: Interval;
  acc_norm?: GroupScore;
  n_items: number;
  n_units: number;
  n_failed: number;
  failures: { id: string; error: string }[];
  by: Record<string, Record<string, GroupScore>>;
  truncation_rate: number;
  refusals?: { by_kind: Record<string, number>; skipped_thinking_rate: number };
  tokens: {
    prompt: Summary;
    completion: Summary;
    reasoning: Summary;
    reasoning_chars: Summary;
    total_prompt: number;
    total_completion: number;
    total_cached: number;
  };
  hist: { completion_tokens: Histogram; reasoning_chars: Histogram };
  latency_ms: Summary;
  cost_usd: Record<string, number>;
  energy: { joules: number; method: string };
  cpu_s: number;
  wall_s: number;
  sessions: { wallMs: number; cpuMs: number; units: number }[];
}

export interface Histogram {
  edges: number[];
  counts: number[];
}

function summary(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0;
  return { mean, p50: quantile(s, 0.5), p90: quantile(s, 0.9), max: s.length ? s[s.length - 1] : 0 };
}

export function histogram(xs: number[], bins = 20): Histogram {
  const max = Math.max(1, ...xs);
  const width = Math.max(1, Math.ceil(max / bins));
  const edges = Array.from({ length: bins + 1 }, (_, i) => i * width);
  const counts = new Array(bins).fill(0);
  for (const x of xs) counts[Math.min(bins - 1, Math.floor(x / width))]++;
  return { edges, counts };
}

/** Per-item scores: the mean of `value(record)` over an item's answered samples. */
function perItem(records: EvalRecord[], value: (r: EvalRecord) => number): Map<string, number> {
  const acc = new Map<string, { s: number; n: number }>();
  for (const r of records) {
    const a = acc.get(r.id) ?? { s: 0, n: 0 };
    a.s += value(r);
    a.n++;
    acc.set(r.id, a);
  }
  return new Map([...acc].map(([id, a]) => [id, a.s / a.n]));
}

function scoreOf(task: Task, r: EvalRecord): number {
  if (task.kind === "probe") return r.verdict?.refused ? 1 : 0;
  return r.verdict?.correct ? 1 : 0;
}

/** Previous sessions are kept in results.json so wall and CPU time add up across resumes. */
export function aggregate(
  all: EvalRecord[],
  task: Task,
  config: RunConfig,
  opts: { session?: { wallMs: number; cpuMs: number; units: number }; previous?: Results; wattsPerCore?: number } = {},
): Results {
  const records = latestByKey(all);
  const ok = records.filter((r) => !r.error && r.verdict);
  const failed = records.filter((r) => r.error);
  const items = perItem(ok, (r) => scoreOf(task, r));
  const main = meanWithInterval([...items.values()]);

  const by: Results["by"] = {};
  for (const key of task.groupBy) {
    const groups = new Map<string, number[]>();
    const groupOf = new Map(ok.map((r) => [r.id, r.groups[key] ?? "?"]));
    for (const [id, s] of items) {
      const g = groupOf.get(id) ?? "?";
      groups.set(g, [...(groups.get(g) ?? []), s]);
    }
    by[key] = Object.fromEntries(
      [...groups]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([g, xs]) => {
          const m = meanWithInterval(xs);
          return [g, { n: xs.length, score: m.mean, ci95: m.ci95 }];
        }),
    );
  }

  let accNorm: GroupScore | undefined;
  if (config.mode === "loglik") {
    const c = ok.filter((r) => r.verdict?.acc_norm).length;
    accNorm = { n: ok.length, score: ok.length ? c / ok.length : 0, ci95: wilson(c, ok.length) };
  }

  let refusals: Results["refusals"];
  if (task.kind === "probe") {
    const byKind: Record<string, number> = {};
    for (const r of ok)
      if (r.verdict?.refusalKind) byKind[r.verdict.refusalKind] = (byKind[r.verdict.refusalKind] ?? 0) + 1;
    const skipped = ok.filter((r) => r.verdict?.skippedThinking).length;
    refusals = { by_kind: byKind, skipped_thinking_rate: ok.length ? skipped / ok.length : 0 };
  }

  const usage = records.map((r) => r.usage).filter((u) => u !== undefined);
  const gen = ok.filter((r) => r.mode !== "loglik");
  const totalPrompt = usage.reduce((a, u) => a + u.prompt_tokens, 0);
  const totalCompletion = usage.reduce((a, u) => a + u.completion_tokens, 0);
  const totalCached = usage.reduce((a, u) => a + (u.cached_tokens ?? 0), 0);
  const cost: Record<string, number> = {};
  for (const [name, t] of Object.entries(PRICE_TABLES)) {
    cost[name] = costOf(
      { cacheHit: totalCached, cacheMiss: totalPrompt - totalCached, completion: totalCompletion },
      t,
    );
  }

  const sessions = [...(opts.previous?.sessions ?? []), ...(opts.session ? [opts.session] : [])];
  const cpuMsRecords = records.reduce((a, r) => a + r.cpu_ms, 0);
  const cpuS = (config.backendKind === "local" ? cpuMsRecords : sessions.reduce((a, s) => a + s.cpuMs, 0)) / 1000;
  const watts = opts.wattsPerCore ?? WATTS_PER_CORE;
  const energy =
    config.backendKind === "local"
      ? { joules: cpuS * watts, method: `CPU time ${cpuS.toFixed(1)} s x ${watts} W per busy core (estimate)` }
      : {
          joules: totalCompletion * JOULES_PER_OUTPUT_TOKEN,
          method: `${totalCompletion} output tokens x ${JOULES_PER_OUTPUT_TOKEN} J/token (Samsi et al. 2023; provider hardware unknown)`,
        };

  const reasoningChars = gen.map((r) => (r.response?.reasoning ?? "").length);
  return {
    task: task.name,
    backend: config.backend,
    mode: config.mode,
    config,
    metric: task.kind === "probe" ? "refusal_rate" : config.mode === "generate" ? "pass@1" : "acc",
    score: main.mean,
    ci95: main.ci95,
    acc_norm: accNorm,
    n_items: items.size,
    n_units: records.length,
    n_failed: failed.length,
    failures: failed.slice(0, 50).map((r) => ({ id: r.key, error: r.error ?? "" })),
    by,
    truncation_rate: ok.length ? ok.filter((r) => r.verdict?.truncated).length / ok.length : 0,
    refusals,
    tokens: {
      prompt: summary(ok.map((r) => r.usage?.prompt_tokens ?? 0)),
      completion: summary(gen.map((r) => r.usage?.completion_tokens ?? 0)),
      reasoning: summary(gen.map((r) => r.usage?.reasoning_tokens ?? 0)),
      reasoning_chars: summary(reasoningChars),
      total_prompt: totalPrompt,
      total_completion: totalCompletion,
      total_cached: totalCached,
    },
    hist: {
      completion_tokens: histogram(gen.map((r) => r.usage?.completion_tokens ?? 0)),
      reasoning_chars: histogram(reasoningChars),
    },
    latency_ms: summary(records.map((r) => r.latency_ms)),
    cost_usd: cost,
    energy,
    cpu_s: cpuS,
    wall_s: sessions.reduce((a, s) => a + s.wallMs, 0) / 1000,
    sessions,
  };
}

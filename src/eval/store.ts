// The run folder: run.json (what was asked, checked on resume), responses.jsonl (one line per request and
// answer, appended as each finishes, so a killed run loses at most the requests in flight), results.json
// and report.html (derived: rebuilt from responses.jsonl at any time).

import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { R1Error } from "../core/errors.js";
import type { ChatMessage } from "../tokenizer/chat_template.js";
import type { SampleParams } from "./backend.js";
import type { Verdict } from "./tasks/task.js";

export interface RunConfig {
  task: string;
  backend: string;
  backendKind: "local" | "endpoint";
  /** generate (sampled chat), loglik (multiple choice by log-likelihood), letter (multiple choice by chat). */
  mode: "generate" | "loglik" | "letter";
  samples: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  seed: number;
  limit: number | null;
  langs: string[] | null;
}

/** The fields that must match for a resumed run to continue the same experiment. */
const PINNED: (keyof RunConfig)[] = [
  "task",
  "backend",
  "mode",
  "samples",
  "temperature",
  "topP",
  "maxTokens",
  "seed",
  "limit",
  "langs",
];

export interface EvalRecord {
  /** `${id}#${sample}`: the unit of work; a resumed run skips keys already stored. */
  key: string;
  id: string;
  sample: number;
  task: string;
  mode: RunConfig["mode"];
  gold: string;
  groups: Record<string, string>;
  request: {
    messages?: ChatMessage[];
    rendered_prompt?: string;
    params?: SampleParams;
    context?: string;
    choices?: string[];
  };
  response?: {
    text?: string;
    reasoning?: string;
    content?: string;
    finish_reason?: string;
    starts_in_reasoning?: boolean;
    sums?: number[];
    counts?: number[];
  };
  usage?: { prompt_tokens: number; completion_tokens: number; reasoning_tokens?: number; cached_tokens?: number };
  verdict?: Verdict & { pred?: number; pred_norm?: number; acc_norm?: boolean };
  latency_ms: number;
  cpu_ms: number;
  attempts: number;
  error?: string;
  time: string;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.part-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

/** Creates the folder, or checks that the run already there asked the same thing. */
export function openRun(outDir: string, config: RunConfig): void {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, "run.json");
  if (existsSync(path)) {
    const old = JSON.parse(readFileSync(path, "utf8")) as RunConfig;
    for (const k of PINNED) {
      if (JSON.stringify(old[k]) !== JSON.stringify(config[k]))
        throw new R1Error(
          "usage",
          `${outDir} holds a run with ${k} ${JSON.stringify(old[k])}, not ${JSON.stringify(config[k])}`,
          "resume with the same flags, or pass a new --out folder",
        );
    }
  }
  writeJsonAtomic(path, config);
}

export function readRunConfig(outDir: string): RunConfig {
  const path = join(outDir, "run.json");
  if (!existsSync(path))
    throw new R1Error("not_found", `${path} does not exist`, "pass a folder written by r1 eval --out");
  return JSON.parse(readFileSync(path, "utf8")) as RunConfig;
}

/**
 * Every stored record. A last line cut short by a kill is dropped (and cut from the file, so appends start
 * on a fresh line); a damaged line elsewhere is an error naming it.
 */
export function readRecords(file: string, repair = false): EvalRecord[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n");
  const out: EvalRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.trim() === "") continue;
    try {
      out.push(JSON.parse(l) as EvalRecord);
    } catch {
      const isLast = lines.slice(i + 1).every((x) => x.trim() === "");
      if (!isLast) throw new R1Error("format", `${file}:${i + 1}: not a JSON record`, "fix or delete that line");
      if (repair)
        writeFileSync(
          file,
          lines
            .slice(0, i)
            .map((x) => `${x}\n`)
            .join(""),
        );
    }
  }
  return out;
}

export function appendRecord(file: string, r: EvalRecord): void {
  appendFileSync(file, `${JSON.stringify(r)}\n`);
}

/** The latest record per key (a retried failure is superseded by its later success). */
export function latestByKey(records: EvalRecord[]): EvalRecord[] {
  const m = new Map<string, EvalRecord>();
  for (const r of records) m.set(r.key, r);
  return [...m.values()];
}

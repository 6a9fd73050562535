// Which files of a repo r1ts downloads. An allow-list, never a deny-list: the runtime reads JSON, safetensors and
// GGUF, all plain data, so nothing that could execute (pickle .bin/.pt/.pth/.pkl/.ckpt, remote-code .py) or that
// we do not read (README, images, ONNX, ...) is ever fetched. The same rules pick files inside a cached snapshot,
// so offline lookups agree with what a pull would have fetched.

import { R1Error } from "../core/errors.js";

/** Small files a folder checkpoint needs beside its weights. Only config.json is mandatory. */
export const RUNTIME_FILES = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  // Recent transformers save the chat template beside tokenizer_config.json instead of inside it. It is a Jinja
  // text rendered by the sandboxed @huggingface/jinja interpreter, never executed as code.
  "chat_template.jinja",
] as const;

export const SAFETENSORS_INDEX = "model.safetensors.index.json";

/** Extensions that must never be fetched, checked again on the final plan as a second lock. */
const FORBIDDEN = /\.(bin|pth|pt|pkl|pickle|ckpt|py|pyc|so|dll|dylib|exe|sh|msgpack|h5|onnx)$/i;

export function assertNothingExecutable(paths: string[]): void {
  const bad = paths.filter((p) => FORBIDDEN.test(p));
  // A plan holding one of these is a bug in this file, not a user error.
  if (bad.length > 0) throw new Error(`internal: download plan contains forbidden files: ${bad.join(", ")}`);
}

const isRoot = (p: string) => !p.includes("/");

/** Files of a safetensors index's weight_map (the shard names), or an error naming the broken field. */
export function shardsOfIndex(indexJson: string, where: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(indexJson);
  } catch (e) {
    throw new R1Error("format", `${where}: not valid JSON (${(e as Error).message})`, "download it again");
  }
  const map = (parsed as { weight_map?: unknown }).weight_map;
  if (typeof map !== "object" || map === null) {
    throw new R1Error("format", `${where}: weight_map: missing`, "the index is damaged; download it again");
  }
  const shards = [...new Set(Object.values(map as Record<string, unknown>))];
  for (const s of shards) {
    if (typeof s !== "string" || !s.endsWith(".safetensors") || s.includes("..") || s.startsWith("/")) {
      throw new R1Error("format", `${where}: weight_map: bad shard name ${JSON.stringify(s)}`, "download it again");
    }
  }
  return (shards as string[]).sort();
}

/**
 * The files of a folder checkpoint, given the repo's listing. `shards` is the weight_map of the index when the
 * repo has one (so stray extra weights, e.g. Mistral's consolidated.safetensors, are skipped); otherwise every
 * root-level .safetensors file. Throws when the repo is not a checkpoint r1ts can load.
 */
export function selectFolderFiles(repo: string, available: string[], shards?: string[]): string[] {
  const have = new Set(available);
  if (!have.has("config.json")) {
    const ggufs = available.filter((p) => p.toLowerCase().endsWith(".gguf"));
    if (ggufs.length > 0) return [...selectGguf(repo, available, undefined)];
    throw new R1Error(
      "unsupported",
      `${repo} has no config.json and no .gguf file: it is not a checkpoint r1ts can run`,
      "pick a repo with safetensors weights and config.json, or a GGUF repo (org/repo:Q4_K_M)",
    );
  }
  let weights: string[];
  if (have.has(SAFETENSORS_INDEX)) {
    weights = shards ?? [];
    const missing = weights.filter((w) => !have.has(w));
    if (missing.length > 0) {
      throw new R1Error(
        "format",
        `${repo}: ${SAFETENSORS_INDEX} names shards the repo does not hold: ${missing.join(", ")}`,
        "the repo is broken at this revision; try another revision (org/repo@commit)",
      );
    }
    weights = [SAFETENSORS_INDEX, ...weights];
  } else {
    weights = available.filter((p) => isRoot(p) && p.endsWith(".safetensors"));
  }
  if (!weights.some((w) => w.endsWith(".safetensors"))) {
    const pickles = available.filter((p) => /\.(bin|pt|pth|ckpt)$/.test(p));
    throw new R1Error(
      "unsupported",
      `${repo} has no safetensors weights${pickles.length ? ` (only ${pickles.join(", ")}: pickle files r1ts never loads)` : ""}`,
      "pick a repo that publishes .safetensors (most do), or a GGUF build of it (org/repo:Q4_K_M)",
    );
  }
  const plan = [...RUNTIME_FILES.filter((f) => have.has(f)), ...weights];
  assertNothingExecutable(plan);
  return plan;
}

// GGUF files split by llama.cpp's gguf-split are named name-00001-of-00003.gguf; together they are one model.
const SPLIT_RE = /-(\d{5})-of-(\d{5})\.gguf$/i;

export function groupKey(p: string): string {
  return p.replace(SPLIT_RE, ".gguf");
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The .gguf file(s) a quant tag (or no tag) names. Returns one file, or every part of one split model with the
 * first part first. A tag bounded by '-', '.', '_' or the name's ends (Q4_K in x-Q4_K.gguf, not in x-Q4_K_M.gguf)
 * beats a mere substring match, so Q4_K picks x-Q4_K.gguf even beside x-Q4_K_M.gguf.
 */
export function selectGguf(repo: string, available: string[], quant: string | undefined): string[] {
  const ggufs = available.filter((p) => p.toLowerCase().endsWith(".gguf")).sort();
  if (ggufs.length === 0) {
    throw new R1Error(
      "not_found",
      `${repo} has no .gguf files`,
      quant ? `drop :${quant} to download the safetensors checkpoint, or pick a GGUF repo` : undefined,
    );
  }
  const groups = (files: string[]) => [...new Set(files.map(groupKey))];
  let candidates = ggufs;
  if (quant) {
    const q = escapeRe(quant);
    const exact = ggufs.filter((p) => new RegExp(`(^|[-._/])${q}([-.]|$)`, "i").test(groupKey(p).slice(0, -5)));
    const loose = ggufs.filter((p) => p.toLowerCase().includes(quant.toLowerCase()));
    candidates = groups(exact).length === 1 ? exact : loose;
    if (candidates.length === 0) {
      throw new R1Error(
        "not_found",
        `${repo} has no .gguf file matching "${quant}"; it has: ${groups(ggufs).join(", ")}`,
        `name one of those quant tags, e.g. ${repo}:${quantTag(ggufs[0]!) ?? "Q4_K_M"}`,
      );
    }
  }
  const gs = groups(candidates);
  if (gs.length > 1) {
    const tags = gs.map((g) => quantTag(g)).filter((x): x is string => x !== undefined);
    throw new R1Error(
      "usage",
      `${repo}${quant ? `:${quant}` : ""} matches ${gs.length} GGUF files: ${gs.join(", ")}`,
      tags.length > 0
        ? `name one with a quant tag, e.g. ${repo}:${tags[0]}, or as ${repo}/${gs[0]}`
        : `name one as ${repo}/${gs[0]}`,
    );
  }
  return candidates.filter((p) => groupKey(p) === gs[0]).sort();
}

/** The quant tag in a GGUF file name (Q4_K_M, IQ2_XXS, Q8_0, F16, BF16, ...), if it carries one. */
export function quantTag(name: string): string | undefined {
  const base = groupKey(name.split("/").pop()!).replace(/\.gguf$/i, "");
  const m = /(?:^|[-._])((?:I?Q\d+(?:_[A-Z0-9]+)*)|BF16|F16|F32|FP16|FP32)$/i.exec(base);
  return m ? m[1]!.toUpperCase() : undefined;
}

// Model references, the one grammar every command's --model accepts:
//
//   ./models/x  /abs/x.gguf  ~/x    a local folder or file (anything that exists on disk wins over a Hub name)
//   r1-tiny                         a short name of a model shipped in the package's models/ folder
//   org/repo                        a Hugging Face folder checkpoint (config + tokenizer + safetensors)
//   org/repo:Q4_K_M                 the one .gguf in the repo whose name carries that quant tag
//   org/repo/path/file.gguf         one named .gguf file of the repo
//   ...@revision                    a branch, tag or commit, before the :QUANT if both: org/repo@v2:Q8_0
//
// Parsing is pure (no network, no cache) except for the "does this path exist" probe that lets local paths win.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { R1Error } from "../core/errors.js";
import { DEFAULT_REVISION } from "./env.js";

export type ModelRef =
  | { kind: "local"; path: string; text: string; alias?: string }
  | {
      kind: "hub";
      repo: string; // "org/repo"
      revision: string; // "main" when not given
      explicitRevision: boolean;
      file?: string; // org/repo/file.gguf
      quant?: string; // org/repo:Q4_K_M
      text: string;
    };
export type HubRef = Extract<ModelRef, { kind: "hub" }>;

/** Short names of models shipped inside the package, relative to the package root. */
export const SHIPPED_MODELS: Readonly<Record<string, string>> = {
  "r1-tiny": "models/r1-tiny",
};

let cachedRoot: string | undefined;

/** The folder holding r1ts's package.json, found by walking up from this module (src/hub or dist/src/hub). */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, "utf8")).name === "r1ts") {
          cachedRoot = dir;
          return dir;
        }
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`r1ts package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

// Hub repo names: letters, digits, '-', '_', '.', not starting with '-' or '.', no '--' or '..' (the Hub's rules,
// which also keep the cache folder name models--org--repo unambiguous).
const NAME = "[A-Za-z0-9][A-Za-z0-9_.-]{0,95}";
const HUB_RE = new RegExp(`^(${NAME})/(${NAME})((?:/[^@:]+)?)(?:@([^@:]+))?(?::([A-Za-z0-9_.-]+))?$`);

function looksLikePath(text: string): boolean {
  return /^(\.{1,2}([/\\]|$)|[/\\~])/.test(text) || /^[A-Za-z]:[/\\]/.test(text) || text.includes("\\");
}

function badName(text: string, why: string): R1Error {
  return new R1Error(
    "usage",
    `model reference "${text}": ${why}`,
    "use a local path, a short name (r1-tiny), org/repo, org/repo:Q4_K_M, org/repo/file.gguf or org/repo@revision",
  );
}

/**
 * Parse a reference. `cwd` is where relative paths are resolved; an existing path always wins, so a folder
 * that happens to be called org/repo is used as-is (say ./org/repo to be explicit).
 */
export function parseModelRef(text: string, cwd: string = process.cwd()): ModelRef {
  const t = text.trim();
  if (t === "") throw badName(text, "empty");
  if (Object.hasOwn(SHIPPED_MODELS, t)) {
    return { kind: "local", path: join(packageRoot(), SHIPPED_MODELS[t]!), text: t, alias: t };
  }
  const local = resolve(cwd, t.startsWith("~") ? t.replace(/^~/, process.env.HOME ?? "~") : t);
  if (looksLikePath(t) || existsSync(local)) {
    if (!existsSync(local)) {
      throw new R1Error(
        "not_found",
        `model path ${local} does not exist`,
        "check the path, or name a Hub model as org/repo",
      );
    }
    return { kind: "local", path: local, text: t };
  }
  const m = HUB_RE.exec(t);
  if (!m) {
    if (!t.includes("/")) {
      throw new R1Error(
        "not_found",
        `"${t}" is neither a local path nor a known short name (${Object.keys(SHIPPED_MODELS).join(", ")})`,
        "Hub models are named org/repo, e.g. deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
      );
    }
    throw badName(t, "not a valid Hub name");
  }
  const [, org, name, filePart, rev, quant] = m;
  if (/--|\.\./.test(`${org}/${name}`)) throw badName(t, "Hub names contain no '--' or '..'");
  const file = filePart ? filePart.slice(1) : undefined;
  if (file !== undefined) {
    if (!file.toLowerCase().endsWith(".gguf")) {
      throw badName(t, `"${file}": only a .gguf file can be named inside a repo`);
    }
    if (file.split("/").some((seg) => seg === "" || seg === "." || seg === "..")) {
      throw badName(t, `"${file}" is not a plain path inside the repo`);
    }
    if (quant) throw badName(t, "name either a file or a :QUANT tag, not both");
  }
  return {
    kind: "hub",
    repo: `${org}/${name}`,
    revision: rev ?? DEFAULT_REVISION,
    explicitRevision: rev !== undefined,
    file,
    quant,
    text: t,
  };
}

/** The canonical text of a hub reference (used in messages and hints). */
export function formatHubRef(ref: HubRef): string {
  const rev = ref.explicitRevision ? `@${ref.revision}` : "";
  if (ref.file) return `${ref.repo}/${ref.file}${rev}`;
  return `${ref.repo}${rev}${ref.quant ? `:${ref.quant}` : ""}`;
}

export function isCommitHash(rev: string): boolean {
  return /^[0-9a-f]{40}$/.test(rev);
}

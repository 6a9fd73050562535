// Paths to ../shared (fixtures, data) resolved from the repo root, wherever the compiled test runs from.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, "package.json"))) d = dirname(d);
  return d;
}

export const ROOT = repoRoot();
export const SHARED = resolve(ROOT, "../shared");
export const FIXTURES = join(SHARED, "fixtures");

export interface GoldenPrompt {
  name: string;
  text?: string;
  tokens: number[];
  n_prompt: number;
  generated: number[];
  steps: { token: number; top5: [number, number][] }[];
  prompt_top5: [number, number][][];
  first_step_logits: number[];
}

export interface Golden {
  n_vocab: number;
  prompts: GoldenPrompt[];
}

const temps: string[] = [];
process.on("exit", () => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

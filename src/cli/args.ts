// Flag parsing shared by the verbs: node:util parseArgs plus typed number/list readers whose errors name
// the flag. Every verb accepts --help.

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { usageError } from "../core/errors.js";
import type { Kernels } from "../kernels/kernels.js";
import { KERNEL_BACKENDS, type KernelBackend, makeKernels } from "../kernels/registry.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parse<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw usageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ""), `usage:\n${usage}`);
  }
}

export function num(
  v: string | boolean | undefined,
  flag: string,
  opts: { int?: boolean; min?: number } = {},
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (
    typeof v !== "string" ||
    v.trim() === "" ||
    !Number.isFinite(n) ||
    (opts.int && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min)
  )
    throw usageError(
      `--${flag} must be ${opts.int ? "an integer" : "a number"}${opts.min !== undefined ? ` >= ${opts.min}` : ""}, got "${v}"`,
    );
  return n;
}

export function idList(v: string | undefined, flag: string): number[] | undefined {
  if (v === undefined) return undefined;
  const parts = v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const ids = parts.map((p) => Number(p));
  if (!parts.length || ids.some((n) => !Number.isInteger(n) || n < 0))
    throw usageError(`--${flag} must be comma-separated non-negative integers, got "${v}"`, `e.g. --${flag} 1,2,3`);
  return ids;
}

export function required<T>(v: T | undefined, flag: string, usage: string): T {
  if (v === undefined || v === "") throw usageError(`--${flag} is required`, `usage:\n${usage}`);
  return v;
}

/** The model reference: --model, or the first positional (`r1 run org/repo --prompt ...`, as with ollama run). */
export function modelRef(values: Record<string, unknown>, positionals: string[], usage: string): string {
  const m = (values.model as string | undefined) ?? positionals[0];
  return required(m, "model", usage);
}

/** Flags every verb that runs a model accepts: the kernel backend and its thread count. */
export const KERNEL_FLAGS = {
  kernels: { type: "string" },
  threads: { type: "string" },
} as const;

export const KERNEL_USAGE = `  --kernels auto|wasm|ref  kernel backend (default auto: WASM SIMD where it runs, else the reference)
  --threads N              threads for the WASM kernels (default: the machine's cores)`;

export function kernelsFrom(v: Record<string, unknown>): Kernels {
  const backend = (v.kernels as string | undefined) ?? "auto";
  if (!(KERNEL_BACKENDS as readonly string[]).includes(backend))
    throw usageError(`--kernels must be one of ${KERNEL_BACKENDS.join(", ")}, got "${backend}"`);
  const threads = num(v.threads as string | undefined, "threads", { int: true, min: 1 }) ?? availableParallelism();
  return makeKernels({ backend: backend as KernelBackend, threads });
}

/** A recipe (or other JSON) file named on the command line, parsed; a missing or malformed file is a usage error. */
export function readJsonArg<T>(file: string, what: string): Partial<T> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Partial<T>;
  } catch (e) {
    throw usageError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

/** Flags every resumable recipe verb takes (r1 train, grpo, distill). */
const RECIPE_OPTIONS: Options = {
  recipe: { type: "string" },
  steps: { type: "string" },
  "stop-at": { type: "string" },
  out: { type: "string" },
};

/**
 * A recipe verb's common part: parses argv (RECIPE_OPTIONS and `extra`), reads --recipe through `defaults`,
 * applies --steps and --out. Returns the recipe, every parsed value (for the verb's own flags) and --stop-at.
 */
export function recipeArgs<R extends { steps: number; out: string }>(
  argv: string[],
  usage: string,
  defaults: (raw: Partial<R>, file: string) => R,
  extra: Options = {},
): { recipe: R; values: Record<string, unknown>; stopAt: number | undefined } {
  const { values } = parse(argv, { ...RECIPE_OPTIONS, ...extra }, usage);
  const file = required(values.recipe as string | undefined, "recipe", usage);
  const recipe = defaults(readJsonArg<R>(file, "recipe"), file);
  const steps = num(values.steps as string | undefined, "steps", { int: true, min: 1 });
  if (steps) recipe.steps = steps;
  if (values.out) recipe.out = values.out as string;
  return { recipe, values, stopAt: num(values["stop-at"] as string | undefined, "stop-at", { int: true, min: 1 }) };
}

/**
 * shouldStop for a resumable loop: true once Ctrl-C arrives, so the loop finishes its step and writes a
 * checkpoint rather than die mid-step (a SIGKILL is safe too: the last checkpoint is whole).
 */
export function stopOnSigint(): () => boolean {
  let stop = false;
  process.once("SIGINT", () => {
    stop = true;
  });
  return () => stop;
}

// The `r1 train` recipe at the boundary: a zod schema for the JSON a user writes, so a misspelt key, a string
// where a number belongs or an incomplete model block is an error naming the field, not a NaN loss an hour in.
// Keys starting with "_" are comments (recipes carry `_history`) and are dropped before the check. The model
// block replaces the default model whole (defaultRecipe spreads shallowly), so every field of it is required.

import { z } from "zod";
import { usageError } from "../core/errors.js";
import type { Recipe } from "./trainer.js";

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const pos = z.number().positive();
const nonNeg = z.number().nonnegative();
const fraction = z.number().min(0).max(1);

const model = z.strictObject({
  vocabSize: posInt,
  hidden: posInt,
  nLayers: posInt,
  nHeads: posInt,
  qLoraRank: nonNegInt,
  kvLoraRank: posInt,
  qkNopeDim: posInt,
  qkRopeDim: posInt.refine((d) => d % 2 === 0, "must be even (RoPE rotates pairs)"),
  vHeadDim: posInt,
  intermediate: posInt,
  moeIntermediate: posInt,
  nRoutedExperts: nonNegInt,
  nSharedExperts: nonNegInt,
  topK: posInt,
  firstKDense: nonNegInt,
  routedScalingFactor: pos,
  normTopkProb: z.boolean(),
  ropeTheta: pos,
  rmsEps: pos,
  maxPos: posInt,
  posInit: nonNeg.optional(),
});

const task = z
  .strictObject({
    minDigits: posInt,
    maxDigits: posInt,
    noThink: fraction,
    computeWeight: pos.optional(),
    width: posInt.optional(),
  })
  .refine((t) => t.minDigits <= t.maxDigits, "minDigits must be <= maxDigits");

const text = z.strictObject({ train: z.string().min(1), heldOut: z.string().min(1), seqLen: posInt });

const recipe = z
  .strictObject({
    name: z.string(),
    out: z.string().min(1),
    seed: nonNegInt,
    model,
    task,
    text,
    batch: posInt,
    steps: posInt,
    lr: pos,
    warmup: nonNegInt,
    minLrRatio: fraction,
    weightDecay: nonNeg,
    beta2: z.number().gt(0).lt(1),
    clip: pos,
    fp8: z.boolean(),
    fp8Gemms: z.array(z.enum(["forward", "dgrad", "wgrad"])),
    biasGamma: nonNeg,
    seqAux: nonNeg,
    ckptEvery: posInt,
    logEvery: posInt,
    digitFocusSteps: nonNegInt,
    export: z.string().min(1),
  })
  .partial()
  .refine((r) => !r.model || r.model.topK <= Math.max(1, r.model.nRoutedExperts), {
    message: "topK must be <= nRoutedExperts",
    path: ["model", "topK"],
  });

/**
 * `raw` (a parsed recipe file) checked against the train recipe schema, comments dropped. Throws a usage error
 * that lists every bad field as path: problem.
 */
export function checkTrainRecipe(raw: unknown, file: string): Partial<Recipe> {
  const body =
    raw && typeof raw === "object" && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith("_")))
      : raw;
  const r = recipe.safeParse(body);
  if (r.success) return r.data as Partial<Recipe>;
  const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(recipe)"}: ${i.message}`);
  throw usageError(
    `recipe ${file} is not a valid train recipe:\n  ${lines.join("\n  ")}`,
    "fix those fields (see recipes/r1-tiny-w6s.json for a complete recipe; keys starting with _ are comments)",
  );
}

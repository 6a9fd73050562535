// Recipes at the boundary (`r1 train`, `r1 grpo`, `r1 distill`): zod schemas for the JSON a user writes, so a
// misspelt key, a string where a number belongs or an incomplete model block is an error naming the field, not
// a NaN loss an hour in. Keys starting with "_" are comments (recipes carry `_history`) and are dropped before
// the check. A train recipe's model block replaces the default model whole (defaultRecipe spreads shallowly),
// so every field of it is required; a distill recipe's student block overrides the teacher's config field by
// field, so there every field is optional.

import { z } from "zod";
import { usageError } from "../core/errors.js";
import type { DistillRecipe } from "./distill.js";
import type { GrpoRecipe } from "./grpo.js";
import type { Recipe } from "./trainer.js";

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const pos = z.number().positive();
const nonNeg = z.number().nonnegative();
const fraction = z.number().min(0).max(1);

const modelFields = {
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
};
const model = z.strictObject(modelFields);

const task = z
  .strictObject({
    minDigits: posInt,
    maxDigits: posInt,
    noThink: fraction,
    computeWeight: pos.optional(),
    width: posInt.optional(),
    layout: z.enum(["register", "inplace"]).optional(),
    pads: nonNegInt.optional(),
    idle: z.number().min(0).max(0.5).optional(),
    shortTail: fraction.optional(),
  })
  .refine((t) => t.minDigits <= t.maxDigits, "minDigits must be <= maxDigits")
  .refine(
    (t) => t.layout !== "inplace" || t.maxDigits < (t.width ?? 5),
    "the inplace layout fits operands of up to width - 1 digits: raise width or lower maxDigits",
  );

const text = z.strictObject({ train: z.string().min(1), heldOut: z.string().min(1), seqLen: posInt });

/** Optimizer, schedule and checkpoint fields that mean the same in every recipe kind. */
const common = {
  name: z.string(),
  out: z.string().min(1),
  seed: nonNegInt,
  steps: posInt,
  lr: pos,
  warmup: nonNegInt,
  minLrRatio: fraction,
  weightDecay: nonNeg,
  beta2: z.number().gt(0).lt(1),
  clip: pos,
  ckptEvery: posInt,
  logEvery: posInt,
};

const recipe = z
  .strictObject({
    ...common,
    model,
    task,
    text,
    batch: posInt,
    fp8: z.boolean(),
    fp8Gemms: z.array(z.enum(["forward", "dgrad", "wgrad"])),
    biasGamma: nonNeg,
    seqAux: nonNeg,
    digitFocusSteps: nonNegInt,
    export: z.string().min(1),
  })
  .partial()
  .refine((r) => !r.model || r.model.topK <= Math.max(1, r.model.nRoutedExperts), {
    message: "topK must be <= nRoutedExperts",
    path: ["model", "topK"],
  });

const grpo = z
  .strictObject({
    ...common,
    init: z.string().min(1),
    initRecipe: z.string().min(1),
    minDigits: posInt,
    maxDigits: posInt,
    prompts: posInt,
    group: z.number().int().min(2),
    beta: nonNeg,
    clipEps: pos,
    maxTokens: posInt,
    temperature: pos,
    formatReward: nonNeg,
    skipFlatGroups: z.boolean(),
  })
  .partial()
  .refine((r) => (r.minDigits ?? 1) <= (r.maxDigits ?? Number.POSITIVE_INFINITY), "minDigits must be <= maxDigits");

const distill = z
  .strictObject({
    ...common,
    teacher: z.string().min(1),
    teacherRecipe: z.string().min(1),
    student: z.strictObject(modelFields).partial(),
    studentInit: z.string().min(1),
    mode: z.enum(["sequence", "forward-kl", "reverse-kl"]),
    data: z.enum(["task", "teacher"]),
    task,
    temperature: pos,
    sampleTemperature: pos,
    batch: posInt,
    group: posInt,
    maxTokens: posInt,
    requireFormat: z.boolean(),
    biasGamma: nonNeg,
    export: z.string().min(1),
  })
  .partial();

const KINDS = { train: recipe, grpo, distill };

/**
 * `raw` (a parsed recipe file) checked against the `kind` recipe schema, comments dropped. Throws a usage error
 * that lists every bad field as path: problem.
 */
function check(kind: keyof typeof KINDS, raw: unknown, file: string): unknown {
  const body =
    raw && typeof raw === "object" && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith("_")))
      : raw;
  const r = KINDS[kind].safeParse(body);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(recipe)"}: ${i.message}`);
  throw usageError(
    `recipe ${file} is not a valid ${kind} recipe:\n  ${lines.join("\n  ")}`,
    `fix those fields (recipes/ holds a working ${kind} recipe to compare with; keys starting with _ are comments)`,
  );
}

export const checkTrainRecipe = (raw: unknown, file: string) => check("train", raw, file) as Partial<Recipe>;
export const checkGrpoRecipe = (raw: unknown, file: string) => check("grpo", raw, file) as Partial<GrpoRecipe>;
export const checkDistillRecipe = (raw: unknown, file: string) => check("distill", raw, file) as Partial<DistillRecipe>;

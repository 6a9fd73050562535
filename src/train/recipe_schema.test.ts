// The recipe schemas: every recipe the repo ships passes its kind's schema, and each kind of mistake a user makes
// in one (misspelt key, wrong type, incomplete model, impossible routing) is an R1Error naming the field.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { R1Error } from "../core/errors.js";
import { checkDistillRecipe, checkGrpoRecipe, checkTrainRecipe } from "./recipe_schema.js";

const dir = "recipes";
const all = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => ({ f, raw: JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown> }));
// distill recipes name a teacher, grpo recipes an initial checkpoint: their own verbs read them
const kindOf = (raw: Record<string, unknown>) =>
  "teacher" in raw ? "distill" : "initRecipe" in raw ? "grpo" : "train";
const shipped = all.filter(({ raw }) => kindOf(raw) === "train");
const CHECK = { train: checkTrainRecipe, grpo: checkGrpoRecipe, distill: checkDistillRecipe };

test("every shipped recipe passes its kind's schema, its _comments dropped", () => {
  const counts = { train: 0, grpo: 0, distill: 0 };
  for (const { f, raw } of all) {
    const kind = kindOf(raw);
    counts[kind]++;
    const r = CHECK[kind](raw, f) as Record<string, unknown>;
    assert.ok(!Object.keys(r).some((k) => k.startsWith("_")), f);
    assert.equal(r.steps, raw.steps, f);
  }
  assert.ok(counts.train >= 20 && counts.grpo >= 3 && counts.distill >= 3, JSON.stringify(counts));
});

test("grpo and distill recipes: misspelt keys, bad enums and sizes name the field", () => {
  const g = all.find((s) => s.f === "grpo-tiny.json")!.raw;
  const d = all.find((s) => s.f === "cmp-distill.json")!.raw;
  const cases: [typeof checkGrpoRecipe | typeof checkDistillRecipe, Record<string, unknown>, RegExp][] = [
    [checkGrpoRecipe, { ...g, groups: 8 }, /valid grpo recipe[\s\S]*groups/],
    [checkGrpoRecipe, { ...g, group: 1 }, /group: /],
    [checkGrpoRecipe, { ...g, minDigits: 5, maxDigits: 2 }, /minDigits must be <= maxDigits/],
    [checkDistillRecipe, { ...d, mode: "kl" }, /valid distill recipe[\s\S]*mode: /],
    [checkDistillRecipe, { ...d, student: { hiden: 8 } }, /student[\s\S]*hiden/],
    [checkDistillRecipe, { ...d, temperature: -1 }, /temperature: /],
  ];
  for (const [check, raw, re] of cases)
    assert.throws(
      () => check(raw, "my.json"),
      (e: unknown) => e instanceof R1Error && e.code === "usage" && re.test(e.message),
      String(re),
    );
});

test("bad recipes: each mistake is a usage error that names the field", () => {
  const base = shipped.find((s) => s.f === "r1-tiny-w6s.json")!.raw;
  const model = base.model as Record<string, unknown>;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, stpes: 10 }, /stpes/],
    [{ ...base, lr: "3e-3" }, /lr: .*number/],
    [{ ...base, batch: 0 }, /batch: /],
    [{ ...base, model: { ...model, hidden: undefined } }, /model\.hidden/],
    [{ ...base, model: { ...model, topK: 8 } }, /model\.topK: topK must be <= nRoutedExperts/],
    [{ ...base, model: { ...model, qkRopeDim: 15 } }, /model\.qkRopeDim: must be even/],
    [{ ...base, task: { minDigits: 3, maxDigits: 2, noThink: 0 } }, /task: minDigits must be <= maxDigits/],
    [
      { ...base, task: { minDigits: 1, maxDigits: 6, noThink: 0, width: 6, layout: "inplace" } },
      /task: the inplace layout fits operands of up to width - 1 digits/,
    ],
    [{ ...base, task: { minDigits: 1, maxDigits: 2, noThink: 0, layout: "spiral" } }, /task\.layout/],
    [{ ...base, fp8Gemms: ["forwards"] }, /fp8Gemms\.0/],
    [{ ...base, text: { train: "a.txt" } }, /text\.heldOut/],
    [[1, 2] as unknown as Record<string, unknown>, /\(recipe\)/],
  ];
  for (const [raw, re] of cases)
    assert.throws(
      () => checkTrainRecipe(raw, "my.json"),
      (e: unknown) =>
        e instanceof R1Error && e.code === "usage" && /recipe my\.json/.test(e.message) && re.test(e.message),
      String(re),
    );
});

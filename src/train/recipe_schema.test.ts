// The train recipe schema: every train recipe the repo ships passes it, and each kind of mistake a user makes
// in one (misspelt key, wrong type, incomplete model, impossible routing) is an R1Error naming the field.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { R1Error } from "../core/errors.js";
import { checkTrainRecipe } from "./recipe_schema.js";

const dir = "recipes";
const shipped = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => ({ f, raw: JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown> }))
  // distill recipes name a teacher, grpo recipes an initial checkpoint: their own verbs read them
  .filter(({ raw }) => !("teacher" in raw) && !("initRecipe" in raw) && !("group" in raw));

test("every shipped train recipe passes the schema, its _comments dropped", () => {
  assert.ok(shipped.length >= 20, `found ${shipped.length} train recipes`);
  for (const { f, raw } of shipped) {
    const r = checkTrainRecipe(raw, f);
    assert.ok(!Object.keys(r).some((k) => k.startsWith("_")), f);
    assert.equal(r.steps, raw.steps, f);
  }
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

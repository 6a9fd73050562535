// `npm run experiments cmp`: distillation versus GRPO alone for one student size and one compute budget
// (docs/experiments.md). A 35k-parameter student gets a short cold-start SFT on the generator's scratchpads
// (recipes/student-base.json); from that one checkpoint, R1's distillation recipe (sample the frozen teacher
// runs/r1-tiny-cf4, keep correct well-formed answers, SFT on them: recipes/cmp-distill.json) and GRPO on the rule
// reward (recipes/cmp-grpo.json, and cmp-grpo-easy.json on 1-2 digit prompts) each run for the steps they reached
// in the same 30 minutes of wall time side by side on the 2 cores (session 5; R1TS_CMP_STEPS overrides); every
// result is exported and scored greedily at 1-5 digits, with thinking and with an empty think block.

import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { type DistillRecipe, defaultDistillRecipe, distill } from "../src/train/distill.js";
import { accuracy } from "../src/train/evaluate.js";
import { exportHf } from "../src/train/export.js";
import { defaultGrpoRecipe, type GrpoRecipe, grpo } from "../src/train/grpo.js";
import { TinyV3 } from "../src/train/model.js";
import { defaultRecipe, type Recipe, train } from "../src/train/trainer.js";
import { recipeJson } from "./experiments_common.js";

/** Steps each arm reached in 30 minutes side by side (session 5), the budget the comparison holds equal. */
const STEPS: Record<string, number> = { "cmp-distill": 842, "cmp-grpo": 556, "cmp-grpo-easy": 577 };
for (const kv of (process.env.R1TS_CMP_STEPS ?? "").split(",").filter(Boolean)) {
  const [k, v] = kv.split(":");
  STEPS[k] = Number(v);
}

/** Exports the student checkpoint at `ckpt` and scores it; one table row per digit count. */
async function score(name: string, cfg: Recipe["model"], ckpt: string, dir: string): Promise<string[]> {
  const m = new TinyV3(cfg, 1);
  const st = loadCheckpoint(ckpt, m);
  if (!st) throw new Error(`experiments cmp: no checkpoint at ${ckpt}`);
  exportHf(m, join(dir, "hf"), { recipe: name, steps: String(st.step) });
  const rows = await accuracy(join(dir, "hf"), [1, 2, 3, 4, 5], 50);
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  return [name, ...rows.map((r) => `${pct(r.think)} / ${pct(r.noThink)}`)];
}

export async function distillVsGrpo(root: string, resume: boolean): Promise<void> {
  const fresh = (dir: string) => {
    if (!resume && existsSync(dir)) rmSync(dir, { recursive: true });
    return dir;
  };
  const log = (name: string) => (l: string) => process.stderr.write(`${name}: ${l}\n`);
  const base = defaultRecipe(recipeJson<Recipe>("student-base"));
  base.out = fresh(join(root, "student-base"));
  train(base, { log: log("student-base") });
  const init = join(base.out, "checkpoint.bin");
  const table = [await score("student base (SFT, 1500 steps)", base.model, init, base.out)];

  const d = defaultDistillRecipe(recipeJson<DistillRecipe>("cmp-distill"));
  d.out = fresh(join(root, "cmp-distill"));
  d.studentInit = init;
  await distill(d, { stopAt: STEPS["cmp-distill"], log: log("cmp-distill") });
  table.push(
    await score(`distillation, ${STEPS["cmp-distill"]} steps`, base.model, join(d.out, "checkpoint.bin"), d.out),
  );

  for (const name of ["cmp-grpo", "cmp-grpo-easy"]) {
    const g = defaultGrpoRecipe(recipeJson<GrpoRecipe>(name));
    g.out = fresh(join(root, name));
    g.init = init;
    await grpo(g, { stopAt: STEPS[name], log: log(name) });
    const what = `GRPO ${g.minDigits}-${g.maxDigits} digits, ${STEPS[name]} steps`;
    table.push(await score(what, base.model, join(g.out, "checkpoint.bin"), g.out));
  }
  console.log("\n## Distillation versus GRPO alone (accuracy with thinking / empty think, 50 per cell)\n");
  console.log("| student | 1 digit | 2 | 3 | 4 | 5 (beyond training) |");
  console.log("|---|---|---|---|---|---|");
  for (const row of table) console.log(`| ${row.join(" | ")} |`);
}

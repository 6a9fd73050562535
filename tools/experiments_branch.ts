// `npm run experiments fp8branch`: FP8's loss cost measured from a shared FP32 trunk (docs/experiments.md,
// session 8). The whole-run study (fp8text) cannot resolve 0.25%: any bit-level change sends the 107k model down
// another trajectory, and that alone moves its final held-out loss by up to ±1% (the nudged-FP32 control). Here
// every seed trains one FP32 trunk to step B (R1TS_BRANCH_AT, default 750 of 1500), then branches finish the run
// from that same checkpoint, data and schedule: FP32 (which is the whole-run study's FP32 run, reused when it
// exists), FP32 with lr x 1.0001 (the noise floor), and FP8 (all three GEMMs). A branch diverges for 1500 - B
// steps instead of 1500, so the chaos is smaller, and the FP8 - FP32 gap is FP8's cost over those steps. It is
// not the final-loss gap of a run trained in FP8 from step 0: that is the fp8text study's figure (and fp8textlr's,
// at an lr where eight seeds resolve it).
//   R1TS_FP8_SEEDS=1,2,3,4 R1TS_BRANCH_AT=750 node dist/tools/experiments.js [--resume] fp8branch

import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { defaultRecipe, heldOutLoss, newTrainState, type Recipe, train } from "../src/train/trainer.js";
import { ciText, FP8_VARIANTS, meanSeText, pct, recipeJson } from "./experiments_common.js";

const BASE = "fp8-text-fp8";
/** The branches, in table order: fp32 first (the gaps' reference). */
const VARIANTS = FP8_VARIANTS.filter((v) => ["fp32", "fp32-nudged", "fp8"].includes(v.name));

/**
 * The held-out loss of the fp8text study's FP32 run of `seed` (runs/experiments; seed 1 is the recipe
 * fp8-text-fp32), when it exists and finished. A branch that goes on in FP32 from the trunk is that same run:
 * training is a function of (seed, step) and a checkpoint resumes bit for bit (session 8: the fp32 branches of
 * seeds 1 and 2 from step 750 gave 1.59545 and 1.59028, the study's runs 1.5954 and 1.5903), so it is scored,
 * not trained again.
 */
function studyFp32(root: string, r: Recipe): number | undefined {
  const ckpt = join(root, r.seed === 1 ? "fp8-text-fp32" : `fp8-text-study-fp32-s${r.seed}`, "checkpoint.bin");
  if (!existsSync(ckpt)) return undefined;
  const st = newTrainState(r);
  return loadCheckpoint(ckpt, st.model)?.step === r.steps ? heldOutLoss(st.model, r) : undefined;
}

export function fp8Branch(root: string, resume: boolean, seeds: number[], at: number): void {
  const base = { ...recipeJson(BASE), export: undefined }; // a branch run must not export over anything
  const quiet = (name: string) => (l: string) => process.stderr.write(`${name}: ${l}\n`);
  const loss = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  if (!(at > 0 && at < base.steps!))
    throw new Error(`fp8branch: R1TS_BRANCH_AT ${at} is not a step inside the run's ${base.steps} steps`);
  for (const seed of seeds) {
    const trunk = defaultRecipe({ ...base, seed, fp8: false, out: join(root, `fp8-branch${at}-trunk-s${seed}`) });
    if (!resume && existsSync(trunk.out)) rmSync(trunk.out, { recursive: true });
    // The trunk's checkpoint must be step `at` exactly: trained to it, never past it.
    train({ ...trunk, ckptEvery: at }, { stopAt: at, log: quiet(`trunk s${seed}`) });
    for (const v of VARIANTS) {
      const whole = v.name === "fp32" ? studyFp32(root, trunk) : undefined;
      if (whole !== undefined) {
        loss.get(v.name)!.push(whole);
        continue;
      }
      const name = `fp8-branch${at}-${v.name}-s${seed}`;
      const r = defaultRecipe({ ...base, seed, fp8: v.fp8, lr: base.lr! * (v.lrScale ?? 1), out: join(root, name) });
      if (!resume && existsSync(r.out)) rmSync(r.out, { recursive: true });
      if (!existsSync(join(r.out, "checkpoint.bin"))) {
        mkdirSync(r.out, { recursive: true });
        copyFileSync(join(trunk.out, "checkpoint.bin"), join(r.out, "checkpoint.bin"));
      }
      const { model } = train(r, { log: quiet(name) });
      loss.get(v.name)!.push(heldOutLoss(model, r));
    }
  }
  const f32 = loss.get("fp32")!;
  console.log(`\nHeld-out loss (256 examples) after ${base.steps} steps, branched from FP32 at step ${at}:\n`);
  console.log(
    `| branch | ${seeds.map((s) => `seed ${s}`).join(" | ")} | gap to FP32 per seed | mean gap ± SE | 95% interval |`,
  );
  console.log(`|---|${seeds.map(() => "---|").join("")}---|---|---|`);
  for (const [name, row] of loss) {
    const gaps = row.map((x, i) => x / f32[i] - 1);
    const summary = name === "fp32" ? "-" : meanSeText(gaps, 3);
    console.log(
      `| ${name} | ${row.map((x) => x.toFixed(4)).join(" | ")} | ` +
        `${name === "fp32" ? "-" : gaps.map((g) => pct(g, 3)).join(", ")} | ${summary} | ` +
        `${name === "fp32" ? "-" : ciText(gaps, 3)} |`,
    );
  }
}

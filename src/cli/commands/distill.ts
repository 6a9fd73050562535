// r1 distill --recipe recipes/X.json: knowledge distillation from a frozen SFT teacher into a smaller student
// (src/train/distill.ts): sequence-level (SFT on the teacher's correct samples), forward KL, or on-policy reverse
// KL. Resumable like r1 train: Ctrl-C finishes the step and checkpoints, and rerunning the command continues.

import { join } from "node:path";
import { type DistillRecipe, defaultDistillRecipe, distill } from "../../train/distill.js";
import { checkDistillRecipe } from "../../train/recipe_schema.js";
import { recipeArgs, stopOnSigint } from "../args.js";
import type { Command } from "../command.js";

const usage = `r1 distill --recipe FILE [flags]

  --recipe FILE    distillation recipe JSON (see recipes/distill-tiny.json): teacher checkpoint and its SFT recipe,
                   student config (fields over the teacher's), mode (sequence | forward-kl | reverse-kl), data,
                   temperature, batch, group, lr schedule, steps, seed, ckptEvery, logEvery, out, export
  --steps N        override the recipe's total steps
  --stop-at N      stop after step N (resume later with the same command)
  --out DIR        override the run folder (checkpoint.bin, log.jsonl, loss.svg); the student is then exported
                   to DIR/hf, not to the recipe's export folder`;

export const command: Command = {
  name: "distill",
  summary: "distil an SFT teacher into a smaller student (sequence-level, forward or reverse KL; resumable)",
  usage,
  async run(argv) {
    const {
      recipe,
      values: v,
      stopAt,
    } = recipeArgs<DistillRecipe>(argv, usage, (raw, file) => defaultDistillRecipe(checkDistillRecipe(raw, file)));
    // A run moved elsewhere must not overwrite the recipe's export (someone's finished student).
    if (v.out && recipe.export) recipe.export = join(recipe.out, "hf");
    await distill(recipe, { stopAt, shouldStop: stopOnSigint() });
    return 0;
  },
};

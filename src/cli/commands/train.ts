// r1 train --recipe recipes/X.json: supervised training of a tiny DeepSeek-V3 (MLA + DeepSeekMoE) on a recipe's
// task. Resumable: checkpoints are atomic, so a run killed at any moment (Ctrl-C, SIGKILL) continues from the run
// folder's last checkpoint when the same command is rerun. Exports the HF folder named by the recipe at the end.

import { checkTrainRecipe } from "../../train/recipe_schema.js";
import { defaultRecipe, type Recipe, train } from "../../train/trainer.js";
import { recipeArgs } from "../args.js";
import type { Command } from "../command.js";

const usage = `r1 train --recipe FILE [flags]

  --recipe FILE    recipe JSON (see recipes/r1-tiny.json): model config, task, batch, steps, lr schedule, fp8
  --steps N        override the recipe's total steps
  --stop-at N      stop after step N (resume later with the same command)
  --out DIR        override the run folder (checkpoint.bin, log.jsonl, loss.svg)
  --export DIR     override where the final Hugging Face folder goes
  --fp8            train with emulated FP8 GEMMs (E4M3, 1x128 / 128x128 scaling)`;

export const command: Command = {
  name: "train",
  summary: "train a tiny DeepSeek-V3 from a recipe (resumable; exports a Hugging Face folder)",
  usage,
  async run(argv) {
    const {
      recipe,
      values: v,
      stopAt,
    } = recipeArgs<Recipe>(argv, usage, (raw, file) => defaultRecipe(checkTrainRecipe(raw, file)), {
      export: { type: "string" },
      fp8: { type: "boolean" },
    });
    if (v.export) recipe.export = v.export as string;
    if (v.fp8) recipe.fp8 = true;
    train(recipe, { stopAt });
    return 0;
  },
};

// r1 distill --recipe recipes/X.json: knowledge distillation from a frozen SFT teacher into a smaller student
// (src/train/distill.ts): sequence-level (SFT on the teacher's correct samples), forward KL, or on-policy reverse
// KL. Resumable like r1 train: Ctrl-C finishes the step and checkpoints, and rerunning the command continues.

import { join } from "node:path";
import { type DistillRecipe, defaultDistillRecipe, distill } from "../../train/distill.js";
import { num, parse, readJsonArg, required } from "../args.js";
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
    const { values: v } = parse(
      argv,
      {
        recipe: { type: "string" },
        steps: { type: "string" },
        "stop-at": { type: "string" },
        out: { type: "string" },
      },
      usage,
    );
    const file = required(v.recipe as string | undefined, "recipe", usage);
    const raw = readJsonArg<DistillRecipe>(file, "recipe");
    const recipe = defaultDistillRecipe(raw);
    const steps = num(v.steps as string | undefined, "steps", { int: true, min: 1 });
    if (steps) recipe.steps = steps;
    if (v.out) {
      recipe.out = v.out as string;
      // A run moved elsewhere must not overwrite the recipe's export (someone's finished student).
      if (recipe.export) recipe.export = join(recipe.out, "hf");
    }
    let stop = false;
    // Finish the current step and write a checkpoint rather than die mid-step (a SIGKILL is safe too: the
    // last checkpoint is whole).
    process.once("SIGINT", () => {
      stop = true;
    });
    await distill(recipe, {
      stopAt: num(v["stop-at"] as string | undefined, "stop-at", { int: true, min: 1 }),
      shouldStop: () => stop,
    });
    return 0;
  },
};

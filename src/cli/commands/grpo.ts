// r1 grpo --recipe recipes/X.json: GRPO from an SFT checkpoint on rule rewards (src/train/grpo.ts). Resumable
// like r1 train: Ctrl-C finishes the step and checkpoints, and rerunning the command continues the run.

import { defaultGrpoRecipe, type GrpoRecipe, grpo } from "../../train/grpo.js";
import { num, parse, readJsonArg, required } from "../args.js";
import type { Command } from "../command.js";

const usage = `r1 grpo --recipe FILE [flags]

  --recipe FILE    GRPO recipe JSON (see recipes/grpo-tiny.json): init checkpoint and its SFT recipe, prompts P,
                   group G, beta (KL), clipEps, lr, steps, maxTokens, formatReward, seed, ckptEvery, logEvery, out
  --steps N        override the recipe's total steps
  --stop-at N      stop after step N (resume later with the same command)
  --out DIR        override the run folder (checkpoint.bin, log.jsonl, reward.svg)`;

export const command: Command = {
  name: "grpo",
  summary: "GRPO reinforcement learning from an SFT checkpoint (rule rewards; resumable)",
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
    const raw = readJsonArg<GrpoRecipe>(file, "recipe");
    const recipe = defaultGrpoRecipe(raw);
    const steps = num(v.steps as string | undefined, "steps", { int: true, min: 1 });
    if (steps) recipe.steps = steps;
    if (v.out) recipe.out = v.out as string;
    let stop = false;
    // Finish the current step and write a checkpoint rather than die mid-step (a SIGKILL is safe too: the
    // last checkpoint is whole).
    process.once("SIGINT", () => {
      stop = true;
    });
    await grpo(recipe, {
      stopAt: num(v["stop-at"] as string | undefined, "stop-at", { int: true, min: 1 }),
      shouldStop: () => stop,
    });
    return 0;
  },
};

// r1 grpo --recipe recipes/X.json: GRPO from an SFT checkpoint on rule rewards (src/train/grpo.ts). Resumable
// like r1 train: Ctrl-C finishes the step and checkpoints, and rerunning the command continues the run.

import { defaultGrpoRecipe, type GrpoRecipe, grpo } from "../../train/grpo.js";
import { checkGrpoRecipe } from "../../train/recipe_schema.js";
import { recipeArgs, stopOnSigint } from "../args.js";
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
    const { recipe, stopAt } = recipeArgs<GrpoRecipe>(argv, usage, (raw, file) =>
      defaultGrpoRecipe(checkGrpoRecipe(raw, file)),
    );
    await grpo(recipe, { stopAt, shouldStop: stopOnSigint() });
    return 0;
  },
};

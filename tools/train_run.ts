// Runs (or resumes) a recipe in this process: node dist/tools/train_run.js recipes/X.json [stopAt]
import { readFileSync } from "node:fs";
import { defaultRecipe, type Recipe, train } from "../src/train/trainer.js";

const recipe = defaultRecipe(JSON.parse(readFileSync(process.argv[2], "utf8")) as Partial<Recipe>);
const stopAt = process.argv[3] ? Number(process.argv[3]) : undefined;
// The loop is synchronous: SIGTERM/SIGKILL end the process at once, and the next run resumes from the last
// (atomically written) checkpoint.
train(recipe, { stopAt });

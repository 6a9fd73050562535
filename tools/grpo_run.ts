// Runs (or resumes) a GRPO recipe in this process: node dist/tools/grpo_run.js recipes/X.json [stopAt]
import { readFileSync } from "node:fs";
import { defaultGrpoRecipe, type GrpoRecipe, grpo } from "../src/train/grpo.js";

const recipe = defaultGrpoRecipe(JSON.parse(readFileSync(process.argv[2], "utf8")) as Partial<GrpoRecipe>);
const stopAt = process.argv[3] ? Number(process.argv[3]) : undefined;
// Killing the process at any moment is safe: the next run resumes from the last (atomic) checkpoint.
await grpo(recipe, { stopAt });

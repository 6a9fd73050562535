// The only list of tasks.

import { R1Error } from "../../core/errors.js";
import { arith } from "./arith.js";
import { hellaswag, mmlu } from "./choice.js";
import { contentGaps } from "./content_gaps.js";
import { gsm8k, math500, mgsm } from "./math.js";
import type { Task } from "./task.js";

export const TASKS: Task[] = [gsm8k, math500, mmlu, hellaswag, mgsm, contentGaps, arith];

export function getTask(name: string): Task {
  const t = TASKS.find((x) => x.name === name);
  if (!t) throw new R1Error("usage", `unknown task "${name}"`, `choose one of: ${TASKS.map((x) => x.name).join(", ")}`);
  return t;
}

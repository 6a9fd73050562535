// The arith task: multi-digit addition (and, once trained, multiplication) problems generated from a seed,
// asked exactly as the default model (models/r1-tiny) was trained: the user turn is "What is A+B?" (no
// instruction, no spaces), the prompt text src/train/data/arith.ts promptText renders through the same R1 chat
// template, and the operand range is its 1-4 digits (checked in data.test.ts). The answer is the number after
// </think>:
//   assistant: "<think>\n...scratchpad...\n</think>\n\n4690"

import { Rng } from "../../generate/sampling.js";
import { extractNumber, numbersEqual } from "../extract.js";
import type { Item, Task } from "./task.js";

export interface ArithProblem {
  a: number;
  b: number;
  op: "+" | "*";
  answer: number;
}

/** Operand digit ranges: addition 1-4 digits each (src/train/trainer.ts: minDigits 1, maxDigits 4), multiplication 1-3 by 1-2. */
export const ARITH_DIGITS = { "+": [1, 4, 1, 4], "*": [1, 3, 1, 2] } as const;

/**
 * Operations asked. The default model (src/train/data/arith.ts) is trained on addition only, so that is the
 * default; add "*" here once the trainer teaches multiplication.
 */
export const ARITH_OPS: readonly ("+" | "*")[] = ["+"];

function randomInt(rng: Rng, digits: number): number {
  const lo = digits === 1 ? 0 : 10 ** (digits - 1);
  return lo + Math.floor(rng.nextFloat() * (10 ** digits - lo));
}

/** The i-th problem of a seed: the same on every machine (xoshiro128** via Rng). */
export function arithProblem(seed: number, i: number): ArithProblem {
  const rng = new Rng(seed * 1_000_003 + i);
  const op = ARITH_OPS[Math.floor(rng.nextFloat() * ARITH_OPS.length)];
  const [aLo, aHi, bLo, bHi] = ARITH_DIGITS[op];
  const a = randomInt(rng, aLo + Math.floor(rng.nextFloat() * (aHi - aLo + 1)));
  const b = randomInt(rng, bLo + Math.floor(rng.nextFloat() * (bHi - bLo + 1)));
  return { a, b, op, answer: op === "+" ? a + b : a * b };
}

export function arithPrompt(p: ArithProblem): string {
  return `What is ${p.a}${p.op}${p.b}?`;
}

/** Problems per run when --limit is not given (the set is generated, so it has no natural size). */
export const ARITH_DEFAULT_COUNT = 200;

function arithItem(seed: number, i: number): Item {
  const p = arithProblem(seed, i);
  return {
    id: `${seed}/${i}`,
    messages: [{ role: "user", content: arithPrompt(p) }],
    gold: String(p.answer),
    groups: { op: p.op },
  };
}

export const arith: Task = {
  name: "arith",
  kind: "generative",
  groupBy: ["op"],
  async load({ limit, seed }) {
    const n = limit ?? ARITH_DEFAULT_COUNT;
    return Array.from({ length: n }, (_, i) => arithItem(seed, i));
  },
  lookup(id) {
    const m = /^(-?\d+)\/(\d+)$/.exec(id);
    return m ? arithItem(Number(m[1]), Number(m[2])) : undefined;
  },
  score(item, output, startsInReasoning) {
    const x = extractNumber(output, { startsInReasoning });
    return {
      extracted: x.value === undefined ? null : String(x.value),
      correct: numbersEqual(x.value, Number(item.gold)),
      truncated: x.truncated,
    };
  },
};

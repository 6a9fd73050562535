// Per-position loss of a recipe's checkpoint on a fresh batch, grouped by scratchpad line and column, to see
// which lookups the model has (and has not) learned: node dist/tools/train_diag.js recipes/X.json [n] [digits]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Tape } from "../src/train/autograd.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { makeExample, toBatch } from "../src/train/data/arith.js";
import { decode } from "../src/train/data/vocab.js";
import { TinyV3 } from "../src/train/model.js";
import { Rng } from "../src/train/rng.js";
import { defaultRecipe, type Recipe } from "../src/train/trainer.js";

const recipe = defaultRecipe(JSON.parse(readFileSync(process.argv[2], "utf8")) as Partial<Recipe>);
const n = Number(process.argv[3] ?? 64);
const digits = process.argv[4] ? Number(process.argv[4]) : undefined;
const model = new TinyV3(recipe.model, recipe.seed);
const st = loadCheckpoint(join(recipe.out, "checkpoint.bin"), model);
console.log(`step ${st?.step ?? 0}`);
const rng = new Rng(4242);
const task = { ...recipe.task, noThink: 0, ...(digits ? { minDigits: digits, maxDigits: digits } : {}) };
const ex = Array.from({ length: n }, () => makeExample(rng, task));
const b = toBatch(ex);
const { logits } = model.forward(new Tape(false), b.ids, b.B, b.T);
const V = recipe.model.vocabSize;
const sum = new Map<string, [number, number, number]>();
let total = 0;
let cnt = 0;
for (let i = 0; i < b.B; i++) {
  const e = ex[i];
  let line = 0;
  let col = 0;
  let afterThink = false;
  for (let t = e.promptLen - 1; t < e.ids.length - 1; t++) {
    const row = logits.data.subarray((i * b.T + t) * V, (i * b.T + t + 1) * V);
    let mx = -Infinity;
    for (const x of row) mx = Math.max(mx, x);
    let z = 0;
    for (const x of row) z += Math.exp(x - mx);
    const tgt = b.targets[i * b.T + t];
    const l = Math.log(z) + mx - row[tgt];
    let am = 0;
    for (let v = 0; v < V; v++) if (row[v] > row[am]) am = v;
    const tok = decode([tgt]);
    if (tok === "</think>") afterThink = true;
    const key = afterThink ? `ans:${Math.min(col, 9)}` : `L${Math.min(line, 12)}:${String(col).padStart(2)}`;
    const s = sum.get(key) ?? [0, 0, 0];
    s[0] += l;
    s[1]++;
    if (am === tgt) s[2]++;
    sum.set(key, s);
    total += l;
    cnt++;
    if (tok === "\n") {
      line++;
      col = 0;
    } else col++;
  }
}
console.log(`mean loss ${(total / cnt).toFixed(4)} over ${cnt} tokens`);
const keys = [...sum.keys()].sort();
let out = "";
for (const k of keys) {
  const [l, c, ok] = sum.get(k)!;
  out += `${k.padEnd(7)} ${(l / c).toFixed(3)} acc ${((100 * ok) / c).toFixed(0).padStart(3)}% (${c})  ${(l / cnt).toFixed(4)} share\n`;
}
console.log(out);

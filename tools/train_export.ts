// Exports a recipe's latest checkpoint as a Hugging Face folder, checks runtime parity, and (with a count)
// measures held-out accuracy at 1..maxDigits digits (default 5):
// node dist/tools/train_export.js recipes/X.json [outDir] [nPerDigit] [maxDigits]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { promptText, thinkText } from "../src/train/data/arith.js";
import { encode } from "../src/train/data/vocab.js";
import { accuracy, parity } from "../src/train/evaluate.js";
import { exportHf } from "../src/train/export.js";
import { TinyV3 } from "../src/train/model.js";
import { defaultRecipe, type Recipe } from "../src/train/trainer.js";

const recipe = defaultRecipe(JSON.parse(readFileSync(process.argv[2], "utf8")) as Partial<Recipe>);
const out = process.argv[3] ?? recipe.export ?? join(recipe.out, "hf");
const n = Number(process.argv[4] ?? 0);
const model = new TinyV3(recipe.model, recipe.seed);
const st = loadCheckpoint(join(recipe.out, "checkpoint.bin"), model);
if (!st) throw new Error("no checkpoint");
exportHf(model, out, { recipe: recipe.name, steps: String(st.step) });
const ids = encode(
  `${promptText("1234", "5678")}${thinkText("1234", "5678", recipe.task, { pads: recipe.task.pads ? 1 : 0 })}`,
);
const p = parity(model, out, ids);
console.log(JSON.stringify({ step: st.step, out, parity: p }));
if (n > 0) {
  const digits = Array.from({ length: Number(process.argv[5] ?? 5) }, (_, i) => i + 1);
  const rows = await accuracy(out, digits, n);
  for (const r of rows) console.log(JSON.stringify(r));
}

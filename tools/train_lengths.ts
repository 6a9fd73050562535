// Greedy answers of an exported tiny model at one operand length, counted by the sum's length and the number of
// pads the model opened its think block with (the inplace layout's choice; 0 for other layouts), to see which
// states of a longer problem fail: node dist/tools/train_lengths.js DIR digits [n] [seed] [--show]
import { answerOf, extractAnswer, promptText } from "../src/train/data/arith.js";
import { PAD } from "../src/train/data/inplace.js";
import { encode } from "../src/train/data/vocab.js";
import { greedy, heldOutProblems } from "../src/train/evaluate.js";

const [dir, d = "5", n = "50", seed = "12345"] = process.argv.slice(2).filter((a) => a !== "--show");
const show = process.argv.includes("--show");
const digits = Number(d);
const run = greedy(dir);
const counts = new Map<string, number>();
// the problems train_export's accuracy table asks (same seed: same problems)
for (const { a, b } of heldOutProblems(digits, Number(n), Number(seed))) {
  const { text } = await run(encode(promptText(a, b)));
  const want = answerOf(a, b);
  const ok = extractAnswer(text) === want;
  let pads = 0;
  while (text[pads] === PAD) pads++;
  const key = `sum of ${want.length} digits, ${pads} pads: ${ok ? "right" : "wrong"}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  if (show && !ok) console.log(`${a}+${b} = ${want}\n${text}\n`);
}
for (const [k, v] of [...counts].sort()) console.log(`${k.padEnd(36)} ${v}`);

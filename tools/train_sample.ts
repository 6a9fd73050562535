// Greedy sample from an exported folder through the runtime: node dist/tools/train_sample.js DIR "1234+5678" [nothink]
import { loadEngine } from "../src/generate/engine.js";
import { generate } from "../src/generate/generate.js";
import { promptText } from "../src/train/data/arith.js";
import { encode } from "../src/train/data/vocab.js";

const [dir, expr, mode] = process.argv.slice(2);
const [a, b] = expr.split("+");
const e = loadEngine(dir);
const p = promptText(a, b) + (mode === "nothink" ? "</think>\n\n" : "");
const gen = generate(e.model, e.tokenizer, encode(p), { maxTokens: 320, temperature: 0 });
for (;;) {
  const s = await gen.next();
  if (s.done) {
    console.log(s.value.text);
    break;
  }
}

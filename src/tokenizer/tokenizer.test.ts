// The fixture tokenizers against llama.cpp's tokenization (golden.json), from the HF folder and from the GGUF's
// embedded vocabulary; decode / stream agreement on golden and random ids; loader errors.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { FIXTURES, type Golden, type GoldenPrompt } from "../../test/fixtures.js";
import { R1Error } from "../core/errors.js";
import { openGGUF } from "../formats/gguf.js";
import { R1Tokenizer } from "./tokenizer.js";

const MODELS = ["tiny-qwen2", "tiny-deepseek-v3"] as const;

function golden(model: string): Golden {
  return JSON.parse(readFileSync(join(FIXTURES, model, "golden.json"), "utf8"));
}

function fromGGUFFile(model: string): R1Tokenizer {
  const path = join(FIXTURES, model, "model-f32.gguf");
  const file = openGGUF(path);
  try {
    return R1Tokenizer.fromGGUF(file.metadata, path);
  } finally {
    file.close();
  }
}

/**
 * Our ids for a golden prompt. Prompts whose text already starts with BOS (the rendered chat) were tokenized
 * without adding specials; the others with. The long-* prompts record only a description as text: their text is
 * the decoded prefix of a long passage, which must re-encode to the same ids.
 */
function encodeGoldenPrompt(tok: R1Tokenizer, p: GoldenPrompt): number[] | undefined {
  if (p.name.startsWith("long")) return tok.encode(tok.decode(p.tokens.slice(1)), { addSpecial: true });
  if (p.name === "bos-only") return tok.encode("", { addSpecial: true });
  if (typeof p.text !== "string") return undefined;
  return tok.encode(p.text, { addSpecial: !p.text.startsWith(tok.bosToken ?? "\0") });
}

/** Deterministic ids (LCG) over [0, n), so random-id tests are reproducible. */
function randomIds(count: number, n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(s % n);
  }
  return out;
}

function streamed(tok: R1Tokenizer, ids: readonly number[], skipSpecial: boolean): string {
  const d = tok.streamDecoder({ skipSpecial });
  let text = "";
  for (const id of ids) text += d.push(id);
  return text + d.flush();
}

for (const model of MODELS) {
  const g = golden(model);
  const layouts: [string, () => R1Tokenizer][] = [
    ["HF folder", () => R1Tokenizer.fromFolder(join(FIXTURES, model, "hf"))],
    ["GGUF", () => fromGGUFFile(model)],
  ];
  for (const [layout, load] of layouts) {
    describe(`${model} from ${layout}`, () => {
      const tok = load();

      test("reproduces llama.cpp's prompt tokens", () => {
        let checked = 0;
        for (const p of g.prompts) {
          const ids = encodeGoldenPrompt(tok, p);
          if (ids === undefined) continue;
          assert.deepEqual(ids, p.tokens, `${p.name}: ${JSON.stringify(p.text)}`);
          checked++;
        }
        assert.ok(checked >= 5, `only ${checked} golden prompts had text`);
      });

      test("R1 special tokens: ids, kinds, framing", () => {
        assert.equal(tok.bosToken, "<｜begin▁of▁sentence｜>");
        assert.equal(tok.eosToken, "<｜end▁of▁sentence｜>");
        assert.equal(tok.tokenToId(tok.bosToken!), tok.bosId);
        assert.equal(tok.idToToken(tok.eosId!), tok.eosToken);
        assert.equal(tok.addBos, true);
        assert.equal(tok.addEos, false);
        assert.ok(tok.isSpecial(tok.bosId!) && tok.isSpecial(tok.eosId!));
        const user = tok.tokenToId("<｜User｜>")!;
        assert.ok(tok.isAdded(user));
        assert.deepEqual(tok.encode("<｜User｜>x<｜Assistant｜>").slice(0, 1), [user]);
        const plain = tok.encode("hello")[0];
        assert.ok(!tok.isSpecial(plain) && !tok.isAdded(plain));
        assert.equal(tok.encode("hello", { addSpecial: true })[0], tok.bosId);
        assert.equal(tok.decode(tok.encode("hi", { addSpecial: true }), { skipSpecial: true }), "hi");
      });

      test("decode(encode(x)) == x and streaming equals decode on golden ids", () => {
        for (const p of g.prompts) {
          if (typeof p.text === "string" && !p.name.startsWith("long")) {
            assert.equal(tok.decode(tok.encode(p.text)), p.text);
          }
          const ids = [...p.tokens, ...p.generated];
          for (const skipSpecial of [false, true]) {
            assert.equal(streamed(tok, ids, skipSpecial), tok.decode(ids, { skipSpecial }), `${p.name}`);
          }
        }
      });

      test("streaming equals decode on random ids, padding ids included", () => {
        // Random byte-level ids split UTF-8 characters everywhere: the hardest case for the stream decoder.
        for (let seed = 1; seed <= 20; seed++) {
          const ids = randomIds(64, g.n_vocab, seed);
          for (const skipSpecial of [false, true]) {
            assert.equal(streamed(tok, ids, skipSpecial), tok.decode(ids, { skipSpecial }), `seed ${seed}`);
          }
        }
      });

      test("a character split across tokens is held back until complete", () => {
        const ids = tok.encode("a𝄞");
        assert.ok(ids.length >= 3, "the tiny vocab has no merge for U+1D11E, so its 4 bytes span tokens");
        const d = tok.streamDecoder();
        const pieces = ids.map((id) => d.push(id));
        assert.equal(pieces[0], "a");
        assert.ok(pieces.slice(1, -1).every((s) => s === ""));
        assert.equal(pieces[pieces.length - 1], "𝄞");
        assert.equal(d.flush(), "");
        // An incomplete character at the end of the stream becomes U+FFFD, as in decode.
        const cut = ids.slice(0, -1);
        assert.equal(streamed(tok, cut, false), tok.decode(cut));
        assert.ok(tok.decode(cut).endsWith("\uFFFD"));
        // A special token inside the character: skipped, it vanishes and the bytes still join; kept, it ends
        // the byte run and the broken halves become U+FFFD.
        const withEos = [...ids.slice(0, 2), tok.eosId!, ...ids.slice(2)];
        assert.equal(tok.decode(withEos, { skipSpecial: true }), "a𝄞");
        assert.equal(streamed(tok, withEos, true), "a𝄞");
        assert.ok(tok.decode(withEos).includes(`\uFFFD${tok.eosToken}\uFFFD`));
        assert.equal(streamed(tok, withEos, false), tok.decode(withEos));
      });

      test("ids with no token decode to nothing; invalid ids are input errors", () => {
        const padding = g.n_vocab - 1; // the model's embedding has rows past the tokenizer's vocabulary
        assert.equal(tok.idToToken(padding), undefined);
        assert.equal(tok.decode([padding]), "");
        assert.equal(tok.decode([]), "");
        assert.throws(
          () => tok.decode([-1]),
          (e: unknown) => e instanceof R1Error && e.code === "input",
        );
        assert.throws(
          () => tok.streamDecoder().push(1.5),
          (e: unknown) => e instanceof R1Error && e.code === "input",
        );
      });
    });
  }

  test(`${model}: the GGUF vocab and the HF folder tokenize alike`, () => {
    const hf = R1Tokenizer.fromFolder(join(FIXTURES, model, "hf"));
    const gg = fromGGUFFile(model);
    assert.equal(gg.vocabSize, g.n_vocab);
    const text = "Hello, World! 1234567 <think>\nreasoning</think> 你好 naïve — ok?\n\n\tdone";
    assert.deepEqual(gg.encode(text), hf.encode(text));
    assert.equal(gg.decode(gg.encode(text)), text);
    for (let id = 0; id < hf.vocabSize; id++) assert.equal(gg.idToToken(id), hf.idToToken(id), `id ${id}`);
  });
}

describe("fromFolder errors name the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "r1ts-tok-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const hfDir = join(FIXTURES, "tiny-qwen2", "hf");

  const isR1 = (code: string, fragment: string) => (e: unknown) =>
    e instanceof R1Error && e.code === code && e.message.includes(fragment);

  test("missing folder or tokenizer.json", () => {
    assert.throws(() => R1Tokenizer.fromFolder(join(dir, "nope")), isR1("not_found", "tokenizer.json"));
  });

  test("missing tokenizer_config.json", () => {
    writeFileSync(join(dir, "tokenizer.json"), readFileSync(join(hfDir, "tokenizer.json")));
    assert.throws(() => R1Tokenizer.fromFolder(dir), isR1("not_found", "tokenizer_config.json"));
  });

  test("malformed JSON", () => {
    writeFileSync(join(dir, "tokenizer_config.json"), '{"bos_token": ');
    assert.throws(() => R1Tokenizer.fromFolder(dir), isR1("format", join(dir, "tokenizer_config.json")));
    writeFileSync(join(dir, "tokenizer_config.json"), "[1, 2]");
    assert.throws(() => R1Tokenizer.fromFolder(dir), isR1("format", "not an object"));
  });

  test("a config naming a token the vocabulary lacks", () => {
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ bos_token: "<s>" }));
    assert.throws(() => R1Tokenizer.fromFolder(dir), isR1("format", '"<s>" is not in the vocabulary'));
  });

  test("a tokenizer.json without a model", () => {
    assert.throws(() => R1Tokenizer.fromJSON({ added_tokens: [] }, {}, "x/tokenizer.json"), isR1("format", "model"));
  });

  test("chat_template.jinja beside the config is picked up", () => {
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ add_bos_token: false }));
    writeFileSync(join(dir, "chat_template.jinja"), "{{ messages[0]['content'] }}");
    const tok = R1Tokenizer.fromFolder(dir);
    assert.equal(tok.chatTemplates.get("default"), "{{ messages[0]['content'] }}");
    assert.equal(tok.addBos, false);
  });
});

// GGUF vocabulary conversion on metadata built by hand: every pre-tokenizer preset splits as its model does,
// token kinds and padding, BOS defaults, named chat templates, and the errors a bad file gets.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TextDecoder } from "node:util";
import { Tokenizer } from "@huggingface/tokenizers";
import { R1Error } from "../core/errors.js";
import type { GGUFValue } from "../formats/gguf.js";
import { convertGGUFVocab } from "./gguf_vocab.js";
import { R1Tokenizer } from "./tokenizer.js";

// GPT-2's byte <-> char table, written out independently of stream_decoder.ts.
function byteChars(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : extra++));
}

/** A minimal byte-level vocabulary: the 256 byte symbols, the given merges, then added tokens. */
function metadata(opts: {
  pre?: string;
  merges?: string[];
  added?: [string, number][]; // [content, token_type]
  extra?: Record<string, GGUFValue>;
}): Record<string, GGUFValue> {
  const tokens = byteChars();
  const types = tokens.map(() => 1);
  for (const m of opts.merges ?? []) {
    tokens.push(m.replace(" ", ""));
    types.push(1);
  }
  for (const [content, type] of opts.added ?? []) {
    tokens.push(content);
    types.push(type);
  }
  const md: Record<string, GGUFValue> = {
    "tokenizer.ggml.model": "gpt2",
    "tokenizer.ggml.tokens": tokens,
    "tokenizer.ggml.token_type": types,
    "tokenizer.ggml.merges": opts.merges ?? [],
    ...opts.extra,
  };
  if (opts.pre !== undefined) md["tokenizer.ggml.pre"] = opts.pre;
  return md;
}

/** The pre-tokenizer's pieces, byte-level chars mapped back to text for readability. */
function pieces(pre: string | undefined, text: string): string[] {
  const json = convertGGUFVocab(metadata({ pre }), "test").tokenizerJson;
  const tok = new Tokenizer(json, {});
  const back = new Map(byteChars().map((c, b) => [c, b]));
  const dec = new TextDecoder();
  return tok
    .pre_tokenizer!.pre_tokenize(text)
    .map((p: string) => dec.decode(Uint8Array.from([...p], (c) => back.get(c)!)));
}

describe("pre-tokenizer presets split as their models do", () => {
  test("qwen2 / deepseek-r1-qwen: single digits, letters with one leading non-letter", () => {
    for (const pre of ["qwen2", "deepseek-r1-qwen"]) {
      assert.deepEqual(pieces(pre, "ab 12345 I'll"), ["ab", " ", "1", "2", "3", "4", "5", " I", "'ll"]);
    }
  });

  test("deepseek-v3: digit groups of three, CJK runs, punctuation-led words", () => {
    assert.deepEqual(pieces("deepseek-v3", "12345"), ["123", "45"]);
    assert.deepEqual(pieces("deepseek-v3", "你好abc"), ["你好", "abc"]);
    assert.deepEqual(pieces("deepseek-v3", "a.bc x"), ["a", ".bc", " x"]);
  });

  test("llama3 family: digit groups of three, case-insensitive contractions", () => {
    for (const pre of ["llama-bpe", "llama3"]) {
      assert.deepEqual(pieces(pre, "12345 I'LL"), ["123", "45", " I", "'LL"]);
    }
  });

  test("deepseek-llm: newlines alone, Latin words with one space, digit runs, CJK runs", () => {
    assert.deepEqual(pieces("deepseek-llm", "ab cd\n12345 你好"), ["ab", " cd", "\n", "12345", " ", "你好"]);
    // The Greek Extended range ends (U+1F7D, U+1FD3, U+1FDB) are letters of one word.
    assert.deepEqual(pieces("deepseek-llm", "\u1F7D\u1FD3\u1FDB x"), ["\u1F7D\u1FD3\u1FDB", " x"]);
  });

  test("gpt-2 and llama.cpp's default for a missing name", () => {
    assert.deepEqual(pieces("gpt-2", "ab 12345!!"), ["ab", " 12345", "!!"]);
    assert.deepEqual(pieces(undefined, "ab 12345"), ["ab", " ", "123", "45"]);
  });

  test("every preset round-trips multilingual text", () => {
    const text = "Hello, мир! 你好 こんにちは 안녕 مرحبا नमस्ते 👨‍👩‍👧 123456\n\tx  y ";
    for (const pre of ["qwen2", "llama-bpe", "deepseek-v3", "deepseek-llm", "deepseek-coder", "gpt-2", "default"]) {
      const tok = R1Tokenizer.fromGGUF(metadata({ pre }), pre);
      assert.equal(tok.decode(tok.encode(text)), text, pre);
    }
  });
});

describe("GGUF vocabulary conversion", () => {
  const added: [string, number][] = [
    ["<｜begin▁of▁sentence｜>", 3],
    ["<｜end▁of▁sentence｜>", 3],
    ["<think>", 4],
    ["[PAD0]", 5],
  ];
  const base = 256 + 2; // two merges below
  const md = metadata({
    pre: "deepseek-v3",
    merges: ["h i", "Ġ hi"],
    added,
    extra: {
      "tokenizer.ggml.bos_token_id": base,
      "tokenizer.ggml.eos_token_id": BigInt(base + 1), // u64 keys may arrive as bigint
      "tokenizer.ggml.add_bos_token": true,
      "tokenizer.chat_template": "{{ bos_token }}",
      "tokenizer.chat_template.tool_use": "{{ eos_token }}",
    },
  });

  test("merges, control / user-defined / unused tokens", () => {
    const tok = R1Tokenizer.fromGGUF(md, "m.gguf");
    assert.deepEqual(tok.encode("hi hi"), [256, 257]);
    assert.deepEqual(tok.encode("hi<think>hi", { addSpecial: true }), [base, 256, base + 2, 256]);
    assert.ok(tok.isSpecial(base) && tok.isSpecial(base + 1));
    assert.ok(tok.isAdded(base + 2) && !tok.isSpecial(base + 2));
    assert.equal(tok.decode([base, 256, base + 2, base + 1], { skipSpecial: true }), "hi<think>");
    // The unused padding entry has no token and decodes to nothing, but still counts in the vocabulary size.
    assert.equal(tok.idToToken(base + 3), undefined);
    assert.equal(tok.decode([256, base + 3]), "hi");
    assert.equal(tok.vocabSize, base + 4);
    assert.equal(tok.eosId, base + 1);
    assert.equal(tok.bosToken, "<｜begin▁of▁sentence｜>");
  });

  test("chat templates by name", () => {
    const tok = R1Tokenizer.fromGGUF(md, "m.gguf");
    assert.deepEqual(
      [...tok.chatTemplates.entries()],
      [
        ["default", "{{ bos_token }}"],
        ["tool_use", "{{ eos_token }}"],
      ],
    );
  });

  test("add_bos_token: the key decides, else llama.cpp's per-pre default", () => {
    const bos = { "tokenizer.ggml.bos_token_id": 0 };
    assert.equal(R1Tokenizer.fromGGUF(metadata({ pre: "llama-bpe", extra: bos })).addBos, true);
    assert.equal(R1Tokenizer.fromGGUF(metadata({ pre: "qwen2", extra: bos })).addBos, false);
    const off = { ...bos, "tokenizer.ggml.add_bos_token": false };
    assert.equal(R1Tokenizer.fromGGUF(metadata({ pre: "llama-bpe", extra: off })).addBos, false);
    assert.deepEqual(
      R1Tokenizer.fromGGUF(metadata({ pre: "llama-bpe", extra: off })).encode("a", { addSpecial: true }),
      [97],
    );
  });

  const fails = (md: Record<string, GGUFValue>, code: string, fragment: string) =>
    assert.throws(
      () => R1Tokenizer.fromGGUF(md, "bad.gguf"),
      (e: unknown) => e instanceof R1Error && e.code === code && e.message.includes(fragment),
    );

  test("SentencePiece and other models are refused by name", () => {
    fails({ ...metadata({}), "tokenizer.ggml.model": "llama" }, "unsupported", '"llama" (SentencePiece)');
    fails({ ...metadata({}), "tokenizer.ggml.model": "bert" }, "unsupported", '"bert"');
  });

  test("unknown pre-tokenizer names are refused, not guessed", () => {
    fails(metadata({ pre: "made-up" }), "unsupported", '"made-up"');
  });

  test("malformed vocabularies name the key", () => {
    const { "tokenizer.ggml.model": _, ...noModel } = metadata({});
    fails(noModel, "format", "tokenizer.ggml.model");
    const { "tokenizer.ggml.tokens": __, ...noTokens } = metadata({});
    fails(noTokens, "format", "tokenizer.ggml.tokens");
    fails({ ...metadata({}), "tokenizer.ggml.token_type": [1, 1] }, "format", "2 entries for 256 tokens");
    fails({ ...metadata({}), "tokenizer.ggml.merges": ["ab"] }, "format", "tokenizer.ggml.merges[0]");
    fails({ ...metadata({}), "tokenizer.ggml.tokens": [1, 2] }, "format", "array of strings");
    fails({ ...metadata({}), "tokenizer.ggml.bos_token_id": 999 }, "format", "past the 256-token vocabulary");
    fails({ ...metadata({}), "tokenizer.ggml.add_bos_token": 1 }, "format", "expected a boolean");
  });
});

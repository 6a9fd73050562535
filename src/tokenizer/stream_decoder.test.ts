// StreamDecoder on its two paths: GPT-2 byte-level pieces (exact, shown on a hand-made vocabulary) and the
// windowed re-decode for SentencePiece-style decoders (a Llama-2-like tokenizer.json with byte fallback).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { byteLevelBytes } from "./stream_decoder.js";
import { R1Tokenizer } from "./tokenizer.js";

function collect(tok: R1Tokenizer, ids: number[], skipSpecial = false): string[] {
  const d = tok.streamDecoder({ skipSpecial });
  const out = ids.map((id) => d.push(id));
  out.push(d.flush());
  return out;
}

describe("byte-level pieces", () => {
  test("GPT-2's table: printable bytes are themselves, the rest shifted past U+00FF", () => {
    assert.deepEqual([...byteLevelBytes("Ġhi")], [0x20, 0x68, 0x69]);
    assert.deepEqual([...byteLevelBytes("Ċ")], [0x0a]);
    assert.deepEqual([...byteLevelBytes("ðŁĺĢ")], [0xf0, 0x9f, 0x98, 0x80]); // 😀
    assert.deepEqual([...byteLevelBytes("Ā")], [0x00]);
    assert.deepEqual([...byteLevelBytes("ÿ")], [0xff]);
  });
});

describe("SentencePiece-style decoder (windowed path)", () => {
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  const words = ["▁", "h", "i", "hi", "▁hi", "é", "▁é"];
  const vocab: Record<string, number> = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (const t of [...bytes, ...words]) vocab[t] = Object.keys(vocab).length;
  const tok = R1Tokenizer.fromJSON(
    {
      added_tokens: ["<unk>", "<s>", "</s>"].map((content, id) => ({ id, content, special: true, normalized: false })),
      normalizer: {
        type: "Sequence",
        normalizers: [
          { type: "Prepend", prepend: "▁" },
          { type: "Replace", pattern: { String: " " }, content: "▁" },
        ],
      },
      pre_tokenizer: null,
      post_processor: null,
      decoder: {
        type: "Sequence",
        decoders: [
          { type: "Replace", pattern: { String: "▁" }, content: " " },
          { type: "ByteFallback" },
          { type: "Fuse" },
          { type: "Strip", content: " ", start: 1, stop: 0 },
        ],
      },
      model: {
        type: "BPE",
        byte_fallback: true,
        fuse_unk: true,
        unk_token: "<unk>",
        vocab,
        merges: ["h i", "▁ hi", "▁ é"],
      },
    },
    { bos_token: "<s>", eos_token: "</s>", add_bos_token: true },
    "llama2-like",
  );

  test("the tokenizer behaves like Llama 2's", () => {
    assert.equal(tok.byteLevel, false);
    const ids = tok.encode("hi 😀 é", { addSpecial: true });
    assert.deepEqual(
      ids.map((id) => tok.idToToken(id)),
      ["<s>", "▁hi", "▁", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>", "▁é"],
    );
    assert.equal(tok.decode(ids, { skipSpecial: true }), "hi 😀 é");
  });

  test("streamed pieces concatenate to decode, holding back split characters", () => {
    const ids = tok.encode("hi 😀 é hi", { addSpecial: true });
    for (const skipSpecial of [false, true]) {
      const pieces = collect(tok, ids, skipSpecial);
      assert.equal(pieces.join(""), tok.decode(ids, { skipSpecial }));
      assert.ok(pieces.every((p) => !p.includes("\uFFFD")));
    }
    // The three leading bytes of 😀 emit nothing; the fourth emits the whole character.
    const pieces = collect(tok, ids, true);
    assert.deepEqual(pieces.slice(3, 7), ["", "", "", "😀"]);
  });

  test("a stream cut inside a character ends in U+FFFD, as decode does", () => {
    const ids = tok.encode("hi 😀").slice(0, -1);
    assert.equal(collect(tok, ids).join(""), tok.decode(ids));
    assert.ok(tok.decode(ids).endsWith("\uFFFD"));
  });
});

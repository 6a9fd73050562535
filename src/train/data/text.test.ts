// The text task (character-level LM over a corpus): what a corpus decodes to, the windows an example takes,
// the errors a bad corpus gets, and that a recipe with `text` trains and scores on it (loss on every character
// after BOS, the held-out figure fixed for a fixed model).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TinyV3 } from "../model.js";
import { Rng } from "../rng.js";
import { defaultRecipe, heldOutLoss, microConfig, stepBatch } from "../trainer.js";
import { corpusIds, textExample } from "./text.js";
import { BOS_ID, decode } from "./vocab.js";

function corpusDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "r1ts-text-"));
  writeFileSync(
    join(dir, "a.jsonl"),
    '{"question": "What is 2+3?", "answer": "5 \u00e9", "n": 7}\n\n{"question": "Hi"}\n',
  );
  writeFileSync(join(dir, "b.txt"), "plain text, long enough to cut windows from. ".repeat(4));
  writeFileSync(join(dir, "bad.jsonl"), '{"question": "ok"}\n{not json\n');
  return dir;
}

test("a JSONL corpus is its rows' string fields, each ending in a newline; unknown characters become ?", () => {
  const dir = corpusDir();
  try {
    assert.equal(decode(corpusIds(join(dir, "a.jsonl"))), "What is 2+3?\n5 ?\n\nHi\n\n");
    assert.equal(decode(corpusIds(join(dir, "b.txt"))), "plain text, long enough to cut windows from. ".repeat(4));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("bad corpora get errors that name the file (and the line)", () => {
  const dir = corpusDir();
  try {
    assert.throws(() => corpusIds(join(dir, "missing.jsonl")), /cannot read corpus .*missing\.jsonl/);
    assert.throws(() => corpusIds(join(dir, "bad.jsonl")), /bad\.jsonl:2: JSON/);
    assert.throws(
      () => textExample(new Rng(1), corpusIds(join(dir, "a.jsonl")), 64),
      /corpus of 22 characters < seqLen 64/,
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("an example is BOS + seqLen consecutive corpus characters, drawn by the generator", () => {
  const dir = corpusDir();
  try {
    const ids = corpusIds(join(dir, "b.txt"));
    const text = decode(ids);
    const seen = new Set<string>();
    const rng = new Rng(7);
    for (let i = 0; i < 20; i++) {
      const e = textExample(rng, ids, 16);
      assert.equal(e.ids.length, 17);
      assert.equal(e.ids[0], BOS_ID);
      assert.equal(e.promptLen, 1);
      const w = decode(e.ids.slice(1));
      assert.ok(text.includes(w), w);
      seen.add(w);
    }
    assert.ok(seen.size > 5, "windows at different offsets");
    assert.deepEqual(textExample(new Rng(3), ids, 16), textExample(new Rng(3), ids, 16));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("a text recipe: every character after BOS carries loss; the held-out loss is fixed for a fixed model", () => {
  const dir = corpusDir();
  try {
    const text = { train: join(dir, "b.txt"), heldOut: join(dir, "b.txt"), seqLen: 24 };
    const r = defaultRecipe({ model: microConfig(102), batch: 3, text });
    const b = stepBatch(r, 5);
    assert.equal(b.B, 3);
    assert.equal(b.T, 24);
    assert.equal(b.tokens, 3 * 24);
    for (const m of b.mask) assert.equal(m, 1);
    assert.deepEqual(stepBatch(r, 5).ids, b.ids, "a step's batch depends on (seed, step) only");
    const model = new TinyV3(r.model, 1);
    const l = heldOutLoss(model, r, 8, 4);
    assert.ok(Number.isFinite(l) && l > 0);
    assert.equal(heldOutLoss(model, r, 8, 4), l);
    assert.notEqual(heldOutLoss(new TinyV3(r.model, 2), r, 8, 4), l);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

// Helpers shared by the format tests: where the shipped fixtures live, scratch folders, and the one assertion
// every bad-input test makes (an R1Error with code "format" whose message names the file and the culprit).

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { R1Error } from "../core/errors.js";

/** Compiled tests run from dist/src/formats, three levels below the repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const FIXTURES = path.resolve(REPO_ROOT, "../shared/fixtures");

/** A fresh folder under os.tmpdir(), removed when the returned cleanup runs. */
export function scratch(prefix: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `r1ts-${prefix}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Asserts fn throws R1Error("format") whose message contains `file` and every fragment. */
export function assertFormatError(fn: () => unknown, file: string, ...fragments: string[]): R1Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(
    caught !== undefined,
    `expected a format error naming ${[file, ...fragments].join(", ")}; nothing was thrown`,
  );
  assert.ok(caught instanceof R1Error, `expected an R1Error, got ${String(caught)}`);
  assert.equal(caught.code, "format", caught.message);
  for (const f of [file, ...fragments]) {
    assert.ok(
      caught.message.includes(f),
      `message ${JSON.stringify(caught.message)} does not name ${JSON.stringify(f)}`,
    );
  }
  return caught;
}

/** mulberry32: a small seeded PRNG, so random test data is the same on every machine. */
export function rng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

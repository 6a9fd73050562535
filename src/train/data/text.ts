// A character-level language-modelling task over a text corpus, for studies that need a smooth loss curve (the
// FP8 versus FP32 comparison: on the addition task every run sits on a plateau and leaves it at its own step, so
// a final-loss gap measures that step, not the precision). DeepSeek-V3 reported its FP8 gap on language-model
// loss; this is the same measurement at tiny scale.
//
// Corpus files are JSON Lines with string fields (GSM8K's question / answer: ../shared/data/gsm8k) or plain
// text. Characters outside the tiny vocabulary become "?" so any UTF-8 file loads. An example is BOS followed
// by a window of `seqLen` characters at an offset drawn from the step's generator; every character after BOS
// carries loss.

import { readFileSync } from "node:fs";
import { inputError, R1Error } from "../../core/errors.js";
import { parseJsonl } from "../../eval/data.js";
import type { Rng } from "../rng.js";
import type { Example } from "./arith.js";
import { BOS_ID, ID } from "./vocab.js";

export interface TextTask {
  /** Training corpus (.jsonl: every string field of every row, one after another; otherwise plain text). */
  train: string;
  /** Held-out corpus, same format; heldOutLoss scores windows of it. */
  heldOut: string;
  /** Characters per example (the sequence is BOS + seqLen characters). */
  seqLen: number;
}

const cache = new Map<string, Int32Array>();

/** The corpus at `path` as token ids (cached per path). Throws a clear error for a missing or tiny file. */
export function corpusIds(path: string): Int32Array {
  const hit = cache.get(path);
  if (hit) return hit;
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch (e) {
    throw new R1Error(
      "not_found",
      `text task: cannot read corpus ${path} (${(e as Error).message})`,
      "point the recipe's text.train / text.heldOut at a .jsonl or plain-text file",
    );
  }
  const text = path.endsWith(".jsonl") ? jsonlText(raw, path) : raw;
  const q = ID.get("?")!;
  const ids = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) ids[i] = ID.get(text[i]) ?? q;
  cache.set(path, ids);
  return ids;
}

/** Every string field of every row (parseJsonl: BOM, CRLF, a clear error per bad line), each then a newline. */
function jsonlText(raw: string, path: string): string {
  const parts: string[] = [];
  for (const row of parseJsonl(raw, path, [])) {
    for (const v of Object.values(row)) if (typeof v === "string") parts.push(v, "\n");
    parts.push("\n");
  }
  return parts.join("");
}

/** One example: BOS + the `seqLen` characters at a random offset of `ids`. */
export function textExample(rng: Rng, ids: Int32Array, seqLen: number): Example {
  if (ids.length <= seqLen)
    throw inputError(`text task: corpus of ${ids.length} characters < seqLen ${seqLen}`, "lower text.seqLen");
  const at = rng.int(0, ids.length - seqLen - 1);
  return { ids: [BOS_ID, ...ids.subarray(at, at + seqLen)], promptLen: 1 };
}

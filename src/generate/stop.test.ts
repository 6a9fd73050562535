import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { R1Error } from "../core/errors.js";
import { Rng } from "./sampling.js";
import { StopMatcher } from "./stop.js";

// Oracle on the whole text, written as the rule reads: walk the end position forward; the first position
// where some stop string ends wins, and among the stops ending there the longest.
function reference(full: string, stops: string[]): { text: string; stopped: boolean } {
  for (let end = 1; end <= full.length; end++) {
    const head = full.slice(0, end);
    const hits = stops.filter((s) => head.endsWith(s));
    if (hits.length > 0) {
      const longest = Math.max(...hits.map((s) => s.length));
      return { text: full.slice(0, end - longest), stopped: true };
    }
  }
  return { text: full, stopped: false };
}

function stream(chunks: string[], stops: string[]): { text: string; stopped: boolean } {
  const m = new StopMatcher(stops);
  let text = "";
  for (const c of chunks) {
    const out = m.push(c);
    text += out.text;
    if (out.stopped) {
      // After a stop nothing more comes out, whatever is pushed.
      assert.deepEqual(m.push("more text"), { text: "", stopped: true });
      assert.equal(m.flush(), "");
      return { text, stopped: true };
    }
  }
  return { text: text + m.flush(), stopped: false };
}

// [stops, text, expected] with the expectation written by hand; the streaming tests reuse the inputs.
const CASES: [string[], string, string, boolean][] = [
  [["</s>"], "Hello</s>ignored", "Hello", true],
  [["</s>"], "a </ b </s", "a </ b </s", false],
  [["\n\n"], "line one\nline two\n\npara", "line one\nline two", true],
  [["User:"], "Use Users Use", "Use Users Use", false],
  // overlapping stop strings: the first to complete wins
  [["abcd", "c"], "xabcd", "xab", true],
  [["bc", "abcd", "cd"], "zabcd", "za", true],
  [["cd", "abcde"], "abcde", "ab", true],
  // stop strings that are prefixes of each other: the shorter completes first
  [["ab", "abc"], "xabc", "x", true],
  [["abc", "ab"], "xab", "x", true],
  // same end, different lengths: the longer (earlier start) wins
  [["abc", "bc"], "xabc", "x", true],
  [["bc", "abc"], "xabc", "x", true],
  // self-overlapping stops, where a failed partial match hides the real start
  [["aab"], "aaab", "a", true],
  [["abab"], "abababx", "", true],
  [["aa"], "baaaa", "b", true],
  [["abcabd"], "abcabcabd!", "abc", true],
  // stop at the very start, and a stop longer than the text
  [["Q"], "Q: hi", "", true],
  [["a much longer stop"], "a much", "a much", false],
  [["。\n", "答案"], "思考。答\n答案：46", "思考。答\n", true],
  [[], "no stops at all", "no stops at all", false],
  [["x"], "", "", false],
];

describe("StopMatcher", () => {
  for (const [stops, text, want, stopped] of CASES) {
    it(`${JSON.stringify(stops)} on ${JSON.stringify(text)}`, () => {
      assert.deepEqual(reference(text, stops), { text: want, stopped });
      assert.deepEqual(stream([text], stops), { text: want, stopped });
    });
  }

  it("gives the same result for every cut into two chunks and for single characters", () => {
    for (const [stops, text, want, stopped] of CASES) {
      for (let cut = 0; cut <= text.length; cut++) {
        const got = stream([text.slice(0, cut), text.slice(cut)], stops);
        assert.deepEqual(got, { text: want, stopped }, `${JSON.stringify(stops)} @${cut}`);
      }
      assert.deepEqual(stream([...text], stops), { text: want, stopped });
    }
  });

  it("agrees with the oracle on random texts, stops and chunkings", () => {
    const rng = new Rng(77);
    const word = (n: number) => Array.from({ length: n }, () => "abc"[rng.nextU32() % 3]).join("");
    for (let trial = 0; trial < 3000; trial++) {
      const stops = Array.from({ length: 1 + (rng.nextU32() % 3) }, () => word(1 + (rng.nextU32() % 4)));
      const text = word(rng.nextU32() % 20);
      const chunks: string[] = [];
      for (let i = 0; i < text.length; ) {
        const n = rng.nextU32() % 5;
        chunks.push(text.slice(i, i + n));
        i += n;
      }
      assert.deepEqual(stream(chunks, stops), reference(text, stops), `${JSON.stringify(stops)} ${text}`);
    }
  });

  it("holds back only what could still become a stop string", () => {
    const m = new StopMatcher(["</s>", "\nUser:"]);
    assert.deepEqual(m.push("hello </"), { text: "hello ", stopped: false });
    assert.deepEqual(m.push("x"), { text: "</x", stopped: false });
    assert.deepEqual(m.push("end\nUs"), { text: "end", stopped: false });
    assert.deepEqual(m.push("ually"), { text: "\nUsually", stopped: false });
    assert.deepEqual(m.push("<"), { text: "", stopped: false });
    assert.equal(m.stopped, false);
    assert.equal(m.flush(), "<");
  });

  it("rejects empty stop strings", () => {
    assert.throws(
      () => new StopMatcher(["ok", ""]),
      (e: unknown) => e instanceof R1Error && e.code === "usage",
    );
  });
});

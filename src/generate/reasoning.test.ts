import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ReasoningParts, ReasoningSplitter, splitReasoning } from "./reasoning.js";
import { Rng } from "./sampling.js";

function stream(chunks: string[], startInReasoning: boolean, tags?: { openTag: string; closeTag: string }) {
  const s = new ReasoningSplitter({ startInReasoning, ...tags });
  const all: ReasoningParts = { reasoning: "", content: "" };
  for (const c of chunks) {
    const out = s.push(c);
    all.reasoning += out.reasoning;
    all.content += out.content;
  }
  const end = s.flush();
  return { reasoning: all.reasoning + end.reasoning, content: all.content + end.content };
}

// Each case: [output, startInReasoning, expected split]. The expectations are written out by hand, so they
// check splitReasoning itself; the streaming tests then hold the splitter to splitReasoning.
const CASES: [string, boolean, ReasoningParts][] = [
  // R1 with the updated template: the prompt ended with "<think>\n"
  [
    "Let me add.\n12+34=46\n</think>\n\nThe answer is 46.",
    true,
    { reasoning: "Let me add.\n12+34=46", content: "The answer is 46." },
  ],
  // R1 writing its own open tag
  ["<think>\nHmm.\n</think>\n\n**46**", false, { reasoning: "Hmm.", content: "**46**" }],
  ["  \n<think>\nx\n</think>\ny", false, { reasoning: "x", content: "y" }],
  // thinking skipped (ollama#8837), with and without the tag in the prompt
  ["<think>\n\n</think>\n\nHi!", false, { reasoning: "", content: "Hi!" }],
  ["\n</think>\n\nHi!", true, { reasoning: "", content: "Hi!" }],
  ["</think>Hi!", true, { reasoning: "", content: "Hi!" }],
  // no reasoning at all: every tag after the start is plain text
  ["Plain answer, no tags.", false, { reasoning: "", content: "Plain answer, no tags." }],
  ["  indented answer", false, { reasoning: "", content: "  indented answer" }],
  ["Use <think> and </think> in HTML.", false, { reasoning: "", content: "Use <think> and </think> in HTML." }],
  ["<thinking>not a tag</thinking>", false, { reasoning: "", content: "<thinking>not a tag</thinking>" }],
  // only the framing newlines go: one before </think>, at most two after it
  ["a\n\n\n</think>\n\n\nb\n", true, { reasoning: "a\n\n", content: "b\n" }],
  ["a</think>\n\n\n\n42", true, { reasoning: "a", content: "42" }],
  ["a</think>\nb", true, { reasoning: "a", content: "b" }],
  // text that resembles a tag inside reasoning stays reasoning
  [
    "x < y and </thin k> and <\n/think>\n</think>\n\nz",
    true,
    { reasoning: "x < y and </thin k> and <\n/think>", content: "z" },
  ],
  // after </think> everything is content, tags included
  ["r</think>\n\nc <think>more</think> d", true, { reasoning: "r", content: "c <think>more</think> d" }],
  // cut off mid-reasoning (max_tokens): all of it is reasoning, a trailing partial tag too
  ["step 1\nstep 2\n</th", true, { reasoning: "step 1\nstep 2\n</th", content: "" }],
  ["<think>\nstill going\n", false, { reasoning: "still going\n", content: "" }],
  ["<think>", false, { reasoning: "", content: "" }],
  // cut off before the open tag completed: that is content
  ["\n<thi", false, { reasoning: "", content: "\n<thi" }],
  ["   ", false, { reasoning: "", content: "   " }],
  ["", false, { reasoning: "", content: "" }],
  ["", true, { reasoning: "", content: "" }],
  // unicode passes through untouched
  ["思考中…\n</think>\n\n答案：46 ✓", true, { reasoning: "思考中…", content: "答案：46 ✓" }],
];

describe("splitReasoning", () => {
  for (const [text, start, want] of CASES) {
    it(`${JSON.stringify(text)} (startInReasoning ${start})`, () => {
      assert.deepEqual(splitReasoning(text, start), want);
    });
  }

  it("accepts other tags", () => {
    assert.deepEqual(splitReasoning("[T]\nr\n[/T]\n\nc", false, "[T]", "[/T]"), { reasoning: "r", content: "c" });
  });
});

describe("ReasoningSplitter", () => {
  it("matches splitReasoning for every cut into two chunks", () => {
    for (const [text, start] of CASES) {
      const want = splitReasoning(text, start);
      for (let cut = 0; cut <= text.length; cut++) {
        assert.deepEqual(stream([text.slice(0, cut), text.slice(cut)], start), want, `${JSON.stringify(text)} @${cut}`);
      }
    }
  });

  it("matches splitReasoning fed one character at a time", () => {
    for (const [text, start] of CASES) {
      assert.deepEqual(stream([...text], start), splitReasoning(text, start), JSON.stringify(text));
    }
  });

  it("matches splitReasoning under random chunkings", () => {
    for (let seed = 0; seed < 200; seed++) {
      const rng = new Rng(seed);
      for (const [text, start] of CASES) {
        const chunks: string[] = [];
        for (let i = 0; i < text.length; ) {
          // sizes 0..5: empty pushes happen too (a token that decodes to nothing yet)
          const n = rng.nextU32() % 6;
          chunks.push(text.slice(i, i + n));
          i += n;
        }
        assert.deepEqual(stream(chunks, start), splitReasoning(text, start), `${JSON.stringify(text)} seed ${seed}`);
      }
    }
  });

  it("matches splitReasoning with custom tags", () => {
    const tags = { openTag: "[T]", closeTag: "[/T]" };
    for (const text of ["[T]\nr\n[/T]\n\nc", " [T]a[/T]b", "[/T]x", "[T", "a\n[/", "[T]\n\n[/T]\n\n"]) {
      for (const start of [false, true]) {
        const want = splitReasoning(text, start, tags.openTag, tags.closeTag);
        for (let cut = 0; cut <= text.length; cut++) {
          assert.deepEqual(stream([text.slice(0, cut), text.slice(cut)], start, tags), want);
        }
        assert.deepEqual(stream([...text], start, tags), want);
      }
    }
  });

  it("holds back a possible tag only while it can still become one", () => {
    const s = new ReasoningSplitter({ startInReasoning: true });
    assert.deepEqual(s.push("abc</th"), { reasoning: "abc", content: "" });
    assert.deepEqual(s.push("x"), { reasoning: "</thx", content: "" });
    assert.deepEqual(s.push("d\n"), { reasoning: "d", content: "" }); // "\n" may frame "</think>"
    assert.deepEqual(s.push("e<"), { reasoning: "\ne", content: "" });
    assert.deepEqual(s.push("/think>"), { reasoning: "", content: "" });
    assert.equal(s.inReasoning, false);
    assert.deepEqual(s.push("\n"), { reasoning: "", content: "" }); // may be half of "\n\n"
    assert.deepEqual(s.push("\nanswer"), { reasoning: "", content: "answer" });
    assert.deepEqual(s.flush(), { reasoning: "", content: "" });
  });

  it("decides at the first non-blank character whether the output opens with a tag", () => {
    const s = new ReasoningSplitter({ startInReasoning: false });
    assert.deepEqual(s.push("\n "), { reasoning: "", content: "" });
    assert.deepEqual(s.push("<th"), { reasoning: "", content: "" });
    assert.equal(s.inReasoning, false);
    assert.deepEqual(s.push("ink>\nwhy"), { reasoning: "why", content: "" });
    assert.equal(s.inReasoning, true);

    const t = new ReasoningSplitter({ startInReasoning: false });
    assert.deepEqual(t.push("\n <thx"), { reasoning: "", content: "\n <thx" });
    assert.deepEqual(t.push("<think>"), { reasoning: "", content: "<think>" });
  });

  it("reports inReasoning from the start when the prompt opened the tag", () => {
    const s = new ReasoningSplitter({ startInReasoning: true });
    assert.equal(s.inReasoning, true);
    s.push("x</think>");
    assert.equal(s.inReasoning, false);
  });
});

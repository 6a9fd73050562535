// Splits R1 output into reasoning (the chain of thought, DeepSeek's `reasoning_content`) and content (the
// answer), whole or while streaming. R1 writes `<think>\n...reasoning...\n</think>\n\nanswer`, but the
// updated chat template puts `<think>\n` at the end of the prompt, so the output often has no opening tag
// (deepseek-ai/DeepSeek-R1#352, vllm#13125): the caller says which case it is with `startInReasoning`.
//
// The rules, applied identically by `splitReasoning` (whole strings) and `ReasoningSplitter` (chunks):
// - startInReasoning: everything up to the close tag is reasoning.
// - otherwise: if the output, after optional leading whitespace, starts with the open tag, that whitespace
//   and the tag are dropped and reasoning begins; if not, the whole output is content and later tags are
//   plain text (only a leading tag is structural, so an answer that talks about `<think>` stays intact).
// - The newlines that frame the tags are formatting, not text: one "\n" right after the open tag, one "\n"
//   right before the close tag, and every "\n" between the close tag and the answer's first other character
//   are dropped. So skipped thinking, `<think>\n\n</think>\n\n`, gives reasoning "". (R1 writes two there;
//   the default model sometimes writes three or four: see src/train/data/inplace.ts, short tail.)
// - After the close tag everything is content, including any further tags.
// - Output that ends inside reasoning (max_tokens hit before `</think>`) leaves all of it in reasoning.

import { partialSuffix } from "./stop.js";

export interface ReasoningParts {
  reasoning: string;
  content: string;
}

export interface ReasoningSplitterOptions {
  /** True when the prompt ended with the open tag (R1's template adds `<think>\n`). */
  startInReasoning: boolean;
  openTag?: string;
  closeTag?: string;
}

const DEFAULT_OPEN = "<think>";
const DEFAULT_CLOSE = "</think>";

/** Leading whitespace as the rules mean it: the ASCII blanks a model emits before a tag. */
const LEADING_BLANKS = /^[ \t\r\n]*/;

/** The rules above, on a complete output. */
export function splitReasoning(
  full: string,
  startInReasoning: boolean,
  openTag = DEFAULT_OPEN,
  closeTag = DEFAULT_CLOSE,
): ReasoningParts {
  let rest = full;
  if (!startInReasoning) {
    const trimmed = full.replace(LEADING_BLANKS, "");
    if (!trimmed.startsWith(openTag)) return { reasoning: "", content: full };
    rest = trimmed.slice(openTag.length);
    if (rest.startsWith("\n")) rest = rest.slice(1);
  }
  const end = rest.indexOf(closeTag);
  if (end < 0) return { reasoning: rest, content: "" };
  let reasoning = rest.slice(0, end);
  if (reasoning.endsWith("\n")) reasoning = reasoning.slice(0, -1);
  const content = rest.slice(end + closeTag.length).replace(/^\n+/, "");
  return { reasoning, content };
}

/**
 * Where the stream stands. `start`: only blanks and part of an open tag seen so far; `afterOpen`: the open
 * tag was just seen, a "\n" may follow; `afterClose`: the close tag was just seen, "\n"s may follow.
 */
type State = "start" | "afterOpen" | "reasoning" | "afterClose" | "content";

/**
 * Streaming form of `splitReasoning`: for any chunking of a text, the concatenated outputs of push() and
 * flush() equal splitReasoning(text). Text that might still turn into a tag (or a tag's framing newline)
 * is held back, and released the moment it cannot: the hold is the longest suffix that is a proper prefix
 * of "\n</think>" or "</think>" while in reasoning, nothing after the close tag (its newlines are dropped as
 * they come), and leading blanks plus a partial open tag at the start.
 */
export class ReasoningSplitter {
  private state: State;
  private pending = "";
  private readonly openTag: string;
  private readonly closeTag: string;
  private readonly closeWithNewline: string;

  constructor(opts: ReasoningSplitterOptions) {
    this.openTag = opts.openTag ?? DEFAULT_OPEN;
    this.closeTag = opts.closeTag ?? DEFAULT_CLOSE;
    if (this.openTag === "" || this.closeTag === "") throw new Error("reasoning tags must be non-empty");
    this.closeWithNewline = `\n${this.closeTag}`;
    this.state = opts.startInReasoning ? "reasoning" : "start";
  }

  /** True while text goes to reasoning (including just after the open tag). */
  get inReasoning(): boolean {
    return this.state === "reasoning" || this.state === "afterOpen";
  }

  push(text: string): ReasoningParts {
    const out: ReasoningParts = { reasoning: "", content: "" };
    let buf = this.pending + text;
    this.pending = "";
    // Each pass either consumes buf, parks it in pending, or moves to a later state: at most 5 passes.
    for (;;) {
      switch (this.state) {
        case "start": {
          const rest = buf.replace(LEADING_BLANKS, "");
          if (rest.startsWith(this.openTag)) {
            buf = rest.slice(this.openTag.length);
            this.state = "afterOpen";
            continue;
          }
          if (this.openTag.startsWith(rest)) {
            this.pending = buf; // blanks, then perhaps the start of the tag ("" included)
            return out;
          }
          this.state = "content";
          continue;
        }
        case "afterOpen":
          if (buf === "") return out;
          if (buf.startsWith("\n")) buf = buf.slice(1);
          this.state = "reasoning";
          continue;
        case "reasoning": {
          const end = buf.indexOf(this.closeTag);
          if (end < 0) {
            const hold = Math.max(partialSuffix(buf, this.closeWithNewline), partialSuffix(buf, this.closeTag));
            out.reasoning += buf.slice(0, buf.length - hold);
            this.pending = buf.slice(buf.length - hold);
            return out;
          }
          const r = buf.slice(0, end);
          out.reasoning += r.endsWith("\n") ? r.slice(0, -1) : r;
          buf = buf.slice(end + this.closeTag.length);
          this.state = "afterClose";
          continue;
        }
        case "afterClose":
          buf = buf.replace(/^\n+/, "");
          if (buf === "") return out; // only framing newlines so far: more may come
          this.state = "content";
          continue;
        case "content":
          out.content += buf;
          return out;
      }
    }
  }

  /** Ends the stream: releases what was held back, as the whole-string rules would place it. */
  flush(): ReasoningParts {
    const held = this.pending;
    this.pending = "";
    switch (this.state) {
      case "start": // blanks or a partial open tag that never completed: plain content
        this.state = "content";
        return { reasoning: "", content: held };
      case "reasoning": // a partial close tag that never completed is reasoning text
        return { reasoning: held, content: "" };
      default: // afterClose drops its newlines as they come; the other states hold nothing
        return { reasoning: "", content: "" };
    }
  }
}

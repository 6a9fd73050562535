// Answer extraction for generative tasks, as the field does it (see ../shared/reference/eval.md §1 and §3):
// - Reasoning models are scored on the text after the LAST `</think>`; an output that opened a think block
//   and never closed it (max tokens hit) has no answer and counts as truncated.
// - Numbers (GSM8K, MGSM, arith): the last \boxed{} if it holds a number, else the first number after the
//   last answer prefix ("Answer:", "The answer is", "####", or the language's own word), else the last
//   number in the text (lm-eval's flexible-extract). Thousands separators, $, %, units, native digits and
//   Unicode minus are handled; equality is numeric.
// - MATH: the last brace-balanced \boxed{} (fallback "Answer:" / "final answer is"), compared by math.ts.
// - Multiple choice through chat: simple-evals' `Answer: X` regex after stripping markdown and \boxed.

import { evalLatex } from "./math.js";

// ---------------------------------------------------------------------------------------------------------
// The answer section of a reasoning model's output
// ---------------------------------------------------------------------------------------------------------

export interface AnswerSection {
  /** The text to score: after the last </think>, or the whole output when no think tags appear. */
  answer: string;
  /** The output opened a think block (or started inside one) and never closed it. */
  truncated: boolean;
}

/**
 * `startsInReasoning`: the prompt ended with `<think>\n`, so the output is reasoning until `</think>`.
 * Endpoints that split reasoning themselves hand us `content` only, which has no tags: it passes through.
 */
export function answerSection(output: string, startsInReasoning = false): AnswerSection {
  const close = output.lastIndexOf("</think>");
  if (close >= 0) return { answer: output.slice(close + "</think>".length).trim(), truncated: false };
  if (startsInReasoning || /^\s*<think>/.test(output)) return { answer: "", truncated: true };
  return { answer: output.trim(), truncated: false };
}

// ---------------------------------------------------------------------------------------------------------
// \boxed{...}
// ---------------------------------------------------------------------------------------------------------

/** Contents of the last \boxed{...} or \fbox{...} (brace-balanced), or of `\boxed 5`; undefined if none. */
export function lastBoxed(text: string): string | undefined {
  const re = /\\(?:boxed|fbox)\s*(\{|\s+[^\s$]+)/g;
  let last: string | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== "{") {
      last = m[1].trim();
      continue;
    }
    const start = m.index + m[0].length;
    let depth = 1;
    let i = start;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === "\\" && (text[i + 1] === "{" || text[i + 1] === "}")) i++;
      else if (text[i] === "{") depth++;
      else if (text[i] === "}") depth--;
    }
    if (depth === 0) last = text.slice(start, i - 1);
  }
  return last;
}

// ---------------------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------------------

// Zero code points of the decimal digit blocks a multilingual model may answer in (MGSM: bn, te, th, zh/ja
// full-width; also Devanagari and Arabic-Indic).
const DIGIT_ZEROS = [0x09e6, 0x0c66, 0x0e50, 0xff10, 0x0966, 0x0660, 0x06f0];

/** Native digits to ASCII, Unicode minus and full-width punctuation to ASCII. */
export function asciiDigits(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const zero = DIGIT_ZEROS.find((z) => c >= z && c <= z + 9);
    if (zero !== undefined) out += String(c - zero);
    else if (ch === "−" || ch === "–" || ch === "－") out += "-";
    else if (ch === "，") out += ",";
    else if (ch === "．") out += ".";
    else out += ch;
  }
  return out;
}

// A number as people write it: optional sign (only when not glued to a word or digit, so "5-year" and
// "3-5" do not make negatives), thousands groups or plain digits, optional decimals; or a bare ".5".
const NUMBER = /(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|(?<![\w.])-?\.\d+/g;

/** Cleans typesetting that splits or decorates numbers: `\$`, `1{,}000`, `1\,000`, `\!`, `\text{}` braces. */
function cleanNumericText(s: string): string {
  return asciiDigits(s)
    .replace(/\{,\}/g, ",")
    .replace(/(\d)\\[,;:!]\s?(?=\d{3})/g, "$1,")
    .replace(/\\[!,;:]/g, "")
    .replace(/\\\$|\$/g, "")
    .replace(/\\%/g, "%");
}

function toNumber(raw: string): number | undefined {
  const n = Number(raw.replace(/,/g, ""));
  return Number.isFinite(n) ? n : undefined;
}

/** All numbers in the text, in order, as values and as written. */
export function numbersIn(text: string): { value: number; raw: string }[] {
  const out: { value: number; raw: string }[] = [];
  for (const m of cleanNumericText(text).matchAll(NUMBER)) {
    const value = toNumber(m[0]);
    if (value !== undefined) out.push({ value, raw: m[0] });
  }
  return out;
}

/**
 * A short answer such as a \boxed{} body, as one number: `x = 18`, `\$18.00`, `18 \text{ dollars}`, `25\%`,
 * `\frac{3}{4}`, `-\dfrac{1}{2}`, `1,450,000`. Undefined when it holds no number.
 */
export function parseNumericAnswer(s: string): number | undefined {
  let t = cleanNumericText(s)
    .replace(/\\(?:text|textbf|mathrm|mbox|textrm)\s*\{[^{}]*\}/g, " ")
    .replace(/\^\s*\{?\\circ\}?|°/g, "")
    .replace(/%/g, "")
    .trim();
  const eq = t.lastIndexOf("=");
  if (eq >= 0) t = t.slice(eq + 1).trim();
  const whole = /^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^-?\.\d+$/.test(t) ? toNumber(t) : undefined;
  if (whole !== undefined) return whole;
  if (/\\d?t?frac|\\sqrt|\//.test(t)) {
    const v = evalLatex(t);
    if (v !== undefined && Number.isFinite(v)) return v;
  }
  return numbersIn(t)[0]?.value;
}

/** GSM8K's gold: the text after the last `####`, commas stripped. */
export function gsm8kGold(answer: string): number {
  const at = answer.lastIndexOf("####");
  if (at < 0) throw new Error("no #### in the GSM8K answer");
  const v = parseNumericAnswer(answer.slice(at + 4).trim());
  if (v === undefined) throw new Error(`no number after #### in "${answer.slice(at)}"`);
  return v;
}

/** Answer prefixes in the MGSM languages (simple-evals' list) plus the common English forms. */
export const ANSWER_PREFIXES: Record<string, string[]> = {
  en: ["Answer", "answer is", "answer:", "####"],
  bn: ["উত্তর"],
  de: ["Antwort"],
  es: ["Respuesta"],
  fr: ["Réponse"],
  ja: ["答え", "解答"],
  ru: ["Ответ"],
  sw: ["Jibu"],
  te: ["సమాధానం"],
  th: ["คำตอบ"],
  zh: ["答案"],
};

export interface NumericExtraction {
  value: number | undefined;
  method: "boxed" | "prefix" | "last" | "none";
  truncated: boolean;
}

/**
 * The numeric answer of a model output. `lang` adds that language's answer word to the English ones (R1
 * often answers in English whatever the question's language, so English is always accepted).
 */
export function extractNumber(
  output: string,
  opts: { lang?: string; startsInReasoning?: boolean } = {},
): NumericExtraction {
  const { answer, truncated } = answerSection(output, opts.startsInReasoning);
  if (truncated) return { value: undefined, method: "none", truncated };
  const boxed = lastBoxed(answer);
  if (boxed !== undefined) {
    const v = parseNumericAnswer(boxed);
    if (v !== undefined) return { value: v, method: "boxed", truncated };
  }
  const prefixes = [
    ...ANSWER_PREFIXES.en,
    ...(opts.lang && opts.lang !== "en" ? (ANSWER_PREFIXES[opts.lang] ?? []) : []),
  ];
  const lower = answer.toLowerCase();
  let at = -1;
  let len = 0;
  for (const p of prefixes) {
    const i = lower.lastIndexOf(p.toLowerCase());
    if (i > at) [at, len] = [i, p.length];
  }
  if (at >= 0) {
    const first = numbersIn(answer.slice(at + len).replace(/^[\s:*：]+/, ""))[0];
    if (first) return { value: first.value, method: "prefix", truncated };
  }
  const all = numbersIn(answer);
  if (all.length) return { value: all[all.length - 1].value, method: "last", truncated };
  return { value: undefined, method: "none", truncated };
}

/** Numeric equality with a relative tolerance for float noise (18 == 18.00, 0.1+0.2 == 0.3). */
export function numbersEqual(a: number | undefined, b: number): boolean {
  if (a === undefined) return false;
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
}

// ---------------------------------------------------------------------------------------------------------
// MATH: the final answer string (compared by math.ts)
// ---------------------------------------------------------------------------------------------------------

export interface MathExtraction {
  answer: string | undefined;
  method: "boxed" | "prefix" | "none";
  truncated: boolean;
}

export function extractMathAnswer(output: string, opts: { startsInReasoning?: boolean } = {}): MathExtraction {
  const { answer, truncated } = answerSection(output, opts.startsInReasoning);
  if (truncated) return { answer: undefined, method: "none", truncated };
  const boxed = lastBoxed(answer);
  if (boxed !== undefined) return { answer: boxed, method: "boxed", truncated };
  // Minerva's "Final Answer: The final answer is $X$." and simple-evals' "Answer: X" line.
  const fin = [...answer.matchAll(/final answer is\s*\$?([^\n$]+)\$?/gi)].pop();
  if (fin) return { answer: fin[1].replace(/\.\s*(I hope.*)?$/i, "").trim(), method: "prefix", truncated };
  const line = [...answer.matchAll(/answer\s*[:：]\s*([^\n]+)/gi)].pop();
  if (line) return { answer: line[1].replace(/^\$+|\$+\.?$/g, "").trim(), method: "prefix", truncated };
  return { answer: undefined, method: "none", truncated };
}

// ---------------------------------------------------------------------------------------------------------
// Multiple choice through chat (MMLU, HellaSwag as letters)
// ---------------------------------------------------------------------------------------------------------

/** The instruction simple-evals appends for multiple choice; our extractor reads what it asks for. */
export const CHOICE_INSTRUCTION =
  "Answer the following multiple choice question. The last line of your response should be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by step before answering.";

/** The chosen letter: `Answer: X` (simple-evals), else \boxed{X}, else "answer is (X)", else a lone letter. */
export function extractChoice(output: string, opts: { letters?: string; startsInReasoning?: boolean } = {}) {
  const letters = opts.letters ?? "ABCD";
  const { answer, truncated } = answerSection(output, opts.startsInReasoning);
  if (truncated) return { letter: undefined, truncated };
  const boxed = lastBoxed(answer);
  const text = answer
    .replace(/\\boxed\s*\{([^{}]*)\}/g, "$1")
    .replace(/\\text(?:bf)?\s*\{([^{}]*)\}/g, "$1")
    .replace(/[*_]{1,2}/g, "")
    .replace(/\$/g, "");
  const L = `[${letters}]`;
  const patterns = [
    new RegExp(`answer[ \\t]*[:：][ \\t]*\\(?(${L})\\b`, "gi"),
    new RegExp(`answer is[ \\t]*(?:option[ \\t]*)?\\(?(${L})\\b`, "gi"),
  ];
  for (const re of patterns) {
    const m = [...text.matchAll(re)].pop();
    if (m) return { letter: m[1].toUpperCase(), truncated };
  }
  if (boxed !== undefined) {
    const m = new RegExp(`^\\s*(?:\\\\text\\{)?\\(?(${L})\\)?`, "i").exec(boxed);
    if (m) return { letter: m[1].toUpperCase(), truncated };
  }
  const lone = new RegExp(`^\\s*\\(?(${L})[).:]?\\s*$`, "im").exec(text.trim().split("\n").pop() ?? "");
  if (lone) return { letter: lone[1].toUpperCase(), truncated };
  return { letter: undefined, truncated };
}

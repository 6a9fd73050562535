// Hand-checked answer formats: each expectation was written by reading the output as a grader would.
// Outputs imitate what R1 and its distills actually print (a <think> block, or only its closing tag when the
// template prefilled `<think>\n`, then a summary with \boxed{}), plus classic non-reasoning formats.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  answerSection,
  extractChoice,
  extractMathAnswer,
  extractNumber,
  gsm8kGold,
  lastBoxed,
  numbersEqual,
} from "./extract.js";
import { evalLatex, mathEqual, normalizeMath } from "./math.js";

const R1 = (think: string, answer: string) => `<think>\n${think}\n</think>\n\n${answer}`;

// [output, expected number (undefined: no answer), options]
const NUMERIC: [string, number | undefined, { lang?: string; startsInReasoning?: boolean }?][] = [
  ["The answer is 18.", 18],
  [R1("16-3-4=9, 9*2=18", "Janet makes $18 every day.\n\n\\boxed{18}"), 18],
  ["16 - 3 - 4 = 9\n9 * 2 = 18\n</think>\n\nShe makes **$18** per day.", 18, { startsInReasoning: true }],
  ["<think>\nLet me compute 16-3-4 = 9", undefined],
  ["so 5+5=10, and then", undefined, { startsInReasoning: true }],
  ["\\boxed{1,450,000}", 1450000],
  ["The total is $1,450,000.", 1450000],
  ["Natalia sold 48/2 = 24 clips in May.\n#### 72", 72],
  ["Answer: -5", -5],
  ["The temperature dropped to −7 degrees.", -7],
  ["\\boxed{\\$18.00}", 18],
  ["\\boxed{18 \\text{ dollars}}", 18],
  ["\\boxed{25\\%}", 25],
  ["\\boxed{x = 12}", 12],
  ["\\boxed{\\frac{3}{4}}", 0.75],
  ["The answer is 0.5 hours", 0.5],
  ["So he needs 3.5 liters.", 3.5],
  ["The 5-year-old has 7 apples.", 7],
  ["He pays \\boxed{1{,}200}", 1200],
  ["\\boxed{1\\,200}", 1200],
  ["所以答案是 18。", 18, { lang: "zh" }],
  ["答案：18 美元", 18, { lang: "zh" }],
  ["Die Antwort lautet 70000 Dollar, bei 80000 Einsatz.", 70000, { lang: "de" }],
  ["উত্তর: ১৮", 18, { lang: "bn" }],
  ["คำตอบ: ๑๘", 18, { lang: "th" }],
  ["答案是１８", 18, { lang: "zh" }],
  ["Jibu: 3", 3, { lang: "sw" }],
  ["La respuesta es 20. Respuesta: 20", 20, { lang: "es" }],
  ["Réponse : 460", 460, { lang: "fr" }],
  ["Ответ: 366", 366, { lang: "ru" }],
  ["答え：694", 694, { lang: "ja" }],
  ["సమాధానం: 12", 12, { lang: "te" }],
  // English answer in a non-English run (R1 often switches to English)
  ["Answer: 64", 64, { lang: "sw" }],
  ["The answer is 18. Checking: 16 - 3 - 4 = 9", 18],
  ["16 - 3 - 4 = 9 eggs, 9 * 2 = 18", 18],
  ["No numbers here.", undefined],
  [R1("The answer might be 5", "\\boxed{6}"), 6],
  ["<think>a</think><think>b</think> final 7", 7],
  [R1("Adding up: 80000 + 50000 = 130000 ...", "**Final Answer**\n\\[\n\\boxed{70000}\n\\]"), 70000],
  ["\\boxed{70,000}", 70000],
  ["He made a profit of $70,000", 70000],
  ["The profit is $70,000.00.", 70000],
  ["\\boxed{-\\$5}", -5],
  ["\\boxed{-\\dfrac{1}{2}}", -0.5],
  ["1/2 of 10 is 5", 5],
  ["so the result is \\boxed 5", 5],
  ["Answer: 3 bolts", 3],
  ["So, the final answer is: **20**", 20],
  ["Thus Janet earns 18 dollars.\n\nAnswer: 18", 18],
  ["It costs $18.50", 18.5],
  ["Answer: .75", 0.75],
  ["The answer is 1,000,000 dollars", 1000000],
  ["3 apples, 4 pears, total 7", 7],
  ["The answer is \\(\\boxed{42}\\).", 42],
  [R1("Wait, 3 * 4 = 12? yes", "Each box holds 12 eggs, so 5 boxes hold 60 eggs.\n\n\\[\\boxed{60}\\]"), 60],
  ["\\boxed{\\text{18}}", 18],
  ["\\boxed{18}\n\nThe answer is 18 dollars.", 18],
  ["The change is -$3.", -3],
  ["She owes \\boxed{-3} dollars", -3],
  ["Total: 5 + 6 = 11 hours", 11],
  ["He ran 2.5 km/h for 4 hours, covering 10 km", 10],
];

describe("extractNumber (GSM8K, MGSM, arith)", () => {
  for (const [output, want, opts] of NUMERIC) {
    it(JSON.stringify(output).slice(0, 70), () => {
      const got = extractNumber(output, opts);
      if (want === undefined) assert.equal(got.value, undefined);
      else assert.ok(numbersEqual(got.value, want), `got ${got.value} (${got.method}), want ${want}`);
    });
  }
  it("reports truncation and the method used", () => {
    assert.equal(extractNumber("<think>\n1+1").truncated, true);
    assert.equal(extractNumber("\\boxed{3}").method, "boxed");
    assert.equal(extractNumber("Answer: 3 then 4").method, "prefix");
    assert.equal(extractNumber("3 then 4").method, "last");
  });
});

describe("gsm8kGold", () => {
  it("reads the number after ####", () => {
    assert.equal(gsm8kGold("She makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18"), 18);
    assert.equal(gsm8kGold("...\n#### 1,450,000"), 1450000);
    assert.equal(gsm8kGold("#### -3"), -3);
    assert.throws(() => gsm8kGold("no marker"), /####/);
  });
  const file = new URL("../../../../shared/data/gsm8k/test.jsonl", import.meta.url);
  it("parses every gold in the shared test set to an integer", { skip: !existsSync(file) }, () => {
    const lines = readFileSync(file, "utf8").trim().split("\n");
    for (const l of lines) assert.ok(Number.isInteger(gsm8kGold(JSON.parse(l).answer)), l.slice(-40));
    assert.equal(lines.length, 1319);
  });
  it("numbersEqual tolerates float noise only", () => {
    assert.ok(numbersEqual(18.0, 18));
    assert.ok(numbersEqual(0.1 + 0.2, 0.3));
    assert.ok(!numbersEqual(18.01, 18));
    assert.ok(!numbersEqual(undefined, 0));
  });
});

// [model answer, gold, equal?]
const MATH: [string | undefined, string, boolean][] = [
  ["\\frac{1}{2}", "\\dfrac{1}{2}", true],
  ["1/2", "\\frac{1}{2}", true],
  ["\\tfrac12", "\\frac{1}{2}", true],
  ["0.5", "\\frac{1}{2}", true],
  ["\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})", true],
  ["10^\\circ", "10", true],
  ["90^{\\circ}", "90", true],
  ["5 \\text{ cm}", "5", true],
  ["5\\text{ cm}^2", "5", true],
  ["\\text{Evelyn}", "Evelyn", true],
  ["\\text{(C)}", "(C)", true],
  ["x = 5", "5", true],
  ["(-\\infty, 3]", "(-\\infty,3]", true],
  ["[2, 5)", "[2,5)", true],
  ["\\$18.90", "18.90", true],
  ["100,000", "100000", true],
  ["2\\sqrt{3}", "2 \\sqrt 3", true],
  ["\\sqrt{12}", "2\\sqrt{3}", true],
  ["6 - 5i", "6-5i", true],
  ["p - q", "p-q", true],
  ["288 \\pi", "288\\pi", true],
  ["x^2+2x+1", "(x+1)^2", true],
  ["\\frac{\\sqrt{21}}{5}", "\\dfrac{\\sqrt{21}}{5}", true],
  ["1,-2", "-2, 1", true],
  [".35625", "0.35625", true],
  ["\\{1,2,3\\}", "\\{3,2,1\\}", true],
  ["50\\%", "50", true],
  ["17.", "17", true],
  ["\\boxed{17}", "17", true],
  ["\\frac{-1}{2}", "-\\frac{1}{2}", true],
  ["\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", true],
  ["y = 2x + 3", "2x+3", true],
  ["3\\sqrt{2}", "\\sqrt{18}", true],
  ["\\dfrac{17}{50}", "0.34", true],
  ["\\pi/2", "\\frac{\\pi}{2}", true],
  ["\\mbox{Monday}", "\\text{Monday}", true],
  ["4 \\text{ inches}", "4", true],
  ["\\left[ -2, 7 \\right)", "[-2,7)", true],
  ["8000", "8{,}000", true],
  ["9/256", "\\frac{9}{256}", true],
  ["\\frac{3}{2}", "1.5", true],
  ["2\\pi", "\\pi \\cdot 2", true],
  ["\\sqrt[3]{8}", "2", true],
  ["-\\frac{\\sqrt{3}}{2}", "\\frac{-\\sqrt{3}}{2}", true],
  ["\\frac{1}{3}", "\\frac{1}{2}", false],
  ["0.33", "\\frac{1}{3}", false],
  ["(3, \\frac{\\pi}{2})", "(3, \\pi)", false],
  ["[2,5]", "[2,5)", false],
  ["(1,2)", "(2,1)", false],
  ["x^2", "2x", false],
  ["17", "71", false],
  ["\\sqrt{2}", "2", false],
  [undefined, "3", false],
  ["", "3", false],
  ["\\text{Evelyn}", "Alice", false],
  ["-3", "3", false],
  ["1,2", "1,2,3", false],
  ["\\frac{\\sqrt{3}}{2}", "0.866", false],
];

describe("mathEqual (MATH-500)", () => {
  for (const [pred, gold, want] of MATH) {
    it(`${JSON.stringify(pred)} ${want ? "==" : "!="} ${JSON.stringify(gold)}`, () => {
      assert.equal(mathEqual(pred, gold), want, `normalized: ${normalizeMath(pred ?? "")} vs ${normalizeMath(gold)}`);
    });
  }
  it("evaluates LaTeX arithmetic", () => {
    assert.equal(evalLatex("\\frac{1}{4}+\\frac{1}{4}"), 0.5);
    assert.equal(evalLatex("2^{10}"), 1024);
    assert.equal(evalLatex("3(2+1)"), 9);
    assert.equal(evalLatex("\\frac12"), 0.5);
    assert.equal(evalLatex("hello world!"), undefined);
  });
  const file = new URL("../../../../shared/data/math500/test.jsonl", import.meta.url);
  it("every MATH-500 gold equals itself boxed, and its own solution's last \\boxed", {
    skip: !existsSync(file),
  }, () => {
    const rows = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    let bad = 0;
    for (const r of rows) {
      assert.ok(mathEqual(`\\boxed{${r.answer}}`, r.answer), r.answer);
      if (!mathEqual(lastBoxed(r.solution), r.answer)) bad++;
    }
    assert.equal(bad, 0, `${bad} solutions disagree with their answer`);
  });
});

// [output, expected extracted answer]
const MATH_EXTRACT: [string, string | undefined][] = [
  [
    R1("r = 3, theta = pi/2", "The polar coordinates are $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$."),
    "\\left( 3, \\frac{\\pi}{2} \\right)",
  ],
  ["\\boxed{\\frac{\\sqrt{21}}{5}}", "\\frac{\\sqrt{21}}{5}"],
  ["First \\boxed{1}, corrected: \\boxed{2}", "2"],
  ["Final Answer: The final answer is $5$. I hope it is correct.", "5"],
  ["Answer: $\\frac{1}{2}$", "\\frac{1}{2}"],
  ["<think>\nlong reasoning without end", undefined],
  ["<think>\nmaybe \\boxed{3}\n</think>\n\nI am not sure.", undefined],
  ["\\boxed{\\text{Evelyn}}", "\\text{Evelyn}"],
  ["\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"],
];

describe("extractMathAnswer", () => {
  for (const [output, want] of MATH_EXTRACT) {
    it(JSON.stringify(output).slice(0, 70), () => assert.equal(extractMathAnswer(output).answer, want));
  }
});

const CHOICE: [string, string | undefined][] = [
  ["Answer: B", "B"],
  ["**Answer: C**", "C"],
  ["Answer: $D$", "D"],
  ["The answer is (A).", "A"],
  ["\\boxed{B}", "B"],
  ["<think>\nAnswer: A?\n</think>\n\nAnswer: C", "C"],
  ["answer: b", "B"],
  ["Answer:\tA", "A"],
  ["I'm not sure.", undefined],
  ["\\boxed{\\text{C}}", "C"],
  ["Thinking done.\nC", "C"],
  ["(D)", "D"],
  ["Answer: E", undefined],
  ["<think>\nhmm, A or B", undefined],
  ["The correct option is B.\nAnswer: B", "B"],
  ["**Answer:** D", "D"],
];

describe("extractChoice", () => {
  for (const [output, want] of CHOICE) {
    it(JSON.stringify(output), () => assert.equal(extractChoice(output).letter, want));
  }
});

describe("answerSection", () => {
  it("takes the text after the last </think>", () => {
    assert.deepEqual(answerSection("<think>\nx\n</think>\n\ny"), { answer: "y", truncated: false });
    assert.deepEqual(answerSection("x</think>y</think>z", true), { answer: "z", truncated: false });
    assert.deepEqual(answerSection("plain answer"), { answer: "plain answer", truncated: false });
    assert.deepEqual(answerSection("<think>\nno end"), { answer: "", truncated: true });
    assert.deepEqual(answerSection("no end", true), { answer: "", truncated: true });
  });
});

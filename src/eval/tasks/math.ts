// Generative math tasks, R1 protocol: 0-shot, no system prompt, the \boxed{} instruction in the user
// message, scored on the text after </think>. GSM8K and MGSM compare numbers; MATH-500 compares answers
// with ../math.ts.

import { formatError } from "../../core/errors.js";
import { parseJsonl, parseTsv, readDataFile } from "../data.js";
import { extractMathAnswer, extractNumber, gsm8kGold, numbersEqual } from "../extract.js";
import { mathEqual } from "../math.js";
import { BOXED_INSTRUCTION, type Item, limitPerGroup, type Task, type Verdict } from "./task.js";

function numericVerdict(item: Item, output: string, startsInReasoning: boolean, lang?: string): Verdict {
  const x = extractNumber(output, { startsInReasoning, lang });
  return {
    extracted: x.value === undefined ? null : String(x.value),
    correct: numbersEqual(x.value, Number(item.gold)),
    truncated: x.truncated,
  };
}

const ask = (question: string) => [{ role: "user", content: `${question}\n${BOXED_INSTRUCTION}` }];

export const gsm8k: Task = {
  name: "gsm8k",
  kind: "generative",
  groupBy: [],
  async load({ data, limit }) {
    const { path, text } = await readDataFile("gsm8k/test.jsonl", data);
    const rows = parseJsonl(text, path, ["question", "answer"]);
    return rows.slice(0, limit).map((r, i) => {
      let gold: number;
      try {
        gold = gsm8kGold(r.answer);
      } catch (e) {
        throw formatError(`${path}:${i + 1}`, "answer", (e as Error).message);
      }
      return { id: String(i), messages: ask(r.question), gold: String(gold), groups: {} };
    });
  },
  score: (item, output, sir) => numericVerdict(item, output, sir),
};

export const math500: Task = {
  name: "math500",
  kind: "generative",
  groupBy: ["subject", "level"],
  async load({ data, limit }) {
    const { path, text } = await readDataFile("math500/test.jsonl", data);
    const rows = parseJsonl(text, path, ["problem", "answer", "unique_id"]);
    return rows.slice(0, limit).map((r) => ({
      id: r.unique_id,
      messages: ask(r.problem),
      gold: r.answer,
      groups: { subject: String(r.subject ?? "?"), level: String(r.level ?? "?") },
    }));
  },
  score(item, output, startsInReasoning) {
    const x = extractMathAnswer(output, { startsInReasoning });
    return { extracted: x.answer ?? null, correct: mathEqual(x.answer, item.gold), truncated: x.truncated };
  },
};

export const MGSM_LANGS = ["en", "es", "fr", "de", "ru", "zh", "ja", "th", "sw", "bn", "te"];

export const mgsm: Task = {
  name: "mgsm",
  kind: "generative",
  groupBy: ["language"],
  async load({ data, limit, langs }) {
    const items: Item[] = [];
    for (const lang of langs ?? MGSM_LANGS) {
      if (!MGSM_LANGS.includes(lang))
        throw formatError("--langs", lang, `unknown MGSM language; choose from ${MGSM_LANGS.join(",")}`);
      const { path, text } = await readDataFile(`mgsm/mgsm_${lang}.tsv`, data);
      parseTsv(text, path, 2).forEach(([q, a], i) => {
        const gold = Number(a.replace(/,/g, ""));
        if (!Number.isFinite(gold)) throw formatError(`${path}:${i + 1}`, "answer_number", `not a number: "${a}"`);
        items.push({ id: `${lang}/${i}`, messages: ask(q), gold: String(gold), groups: { language: lang } });
      });
    }
    return limitPerGroup(items, limit, (it) => it.groups.language);
  },
  score: (item, output, sir) => numericVerdict(item, output, sir, item.groups.language),
};

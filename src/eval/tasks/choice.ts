// Multiple-choice tasks. Each item carries both forms: `mc` for log-likelihood scoring (lm-eval's prompts:
// MMLU 0-shot "The following are multiple choice questions (with answers) about {subject}." with " A".." D",
// HellaSwag's context with each ending after a space), and `messages` for chat endpoints that give no
// logprobs (simple-evals' "Answer: $LETTER" prompt, scored by extractChoice).

import { formatError } from "../../core/errors.js";
import { parseCsv, parseHellaswag, readDataFile } from "../data.js";
import { CHOICE_INSTRUCTION, extractChoice } from "../extract.js";
import { type Item, limitPerGroup, type Task } from "./task.js";

const LETTERS = ["A", "B", "C", "D"];

function letterPrompt(question: string, options: string[]): Item["messages"] {
  const body = options.map((o, i) => `${LETTERS[i]}) ${o}`).join("\n");
  return [{ role: "user", content: `${CHOICE_INSTRUCTION}\n\n${question}\n\n${body}` }];
}

function scoreLetter(item: Item, output: string, startsInReasoning: boolean) {
  const x = extractChoice(output, { startsInReasoning });
  return { extracted: x.letter ?? null, correct: x.letter === item.gold, truncated: x.truncated };
}

export const mmlu: Task = {
  name: "mmlu",
  kind: "choice",
  groupBy: ["category", "subject"],
  async load({ data, limit }) {
    const { path: mapPath, text: mapText } = await readDataFile("mmlu/mapping.json", data);
    let mapping: Record<string, { name: string; category: string }>;
    try {
      mapping = JSON.parse(mapText);
    } catch (e) {
      throw formatError(mapPath, "JSON", (e as Error).message);
    }
    const items: Item[] = [];
    for (const [subject, info] of Object.entries(mapping)) {
      const { path, text } = await readDataFile(`mmlu/test/${subject}_test.csv`, data);
      const rows = parseCsv(text, path, 6);
      const header = `The following are multiple choice questions (with answers) about ${info.name}.\n\n`;
      for (const [i, { fields, line }] of (limit === undefined ? rows : rows.slice(0, limit)).entries()) {
        const [q, a, b, c, d, ans] = fields;
        const gold = LETTERS.indexOf(ans.trim());
        if (gold < 0) throw formatError(`${path}:${line}`, "answer", `expected A-D, found "${ans}"`);
        const options = [a, b, c, d];
        items.push({
          id: `${subject}/${i}`,
          messages: letterPrompt(q, options),
          mc: {
            context: `${header}${q}\n${options.map((o, k) => `${LETTERS[k]}. ${o}`).join("\n")}\nAnswer:`,
            choices: LETTERS.map((l) => ` ${l}`),
            gold,
            lengths: [1, 1, 1, 1],
          },
          gold: LETTERS[gold],
          groups: { category: info.category, subject },
        });
      }
    }
    return items;
  },
  score: scoreLetter,
};

export const hellaswag: Task = {
  name: "hellaswag",
  kind: "choice",
  groupBy: [],
  async load({ data, limit }) {
    const { path, text } = await readDataFile("hellaswag/hellaswag_val_full.txt", data);
    const rows = parseHellaswag(text, path);
    return limitPerGroup(rows, limit, () => "").map((r, i) => ({
      id: String(i),
      messages: letterPrompt(`Which ending is the most plausible continuation?\n\n${r.context}`, r.endings),
      mc: {
        context: r.context,
        choices: r.endings.map((e) => ` ${e}`),
        gold: r.label,
        lengths: r.endings.map((e) => e.length),
      },
      gold: LETTERS[r.label],
      groups: {},
    }));
  },
  score: scoreLetter,
};

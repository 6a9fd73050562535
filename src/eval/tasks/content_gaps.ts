// content-gaps: the deccp prompts asked as they are (no system prompt), each answer screened for refusal
// (../refusal.ts). Sets: censored (refused by Qwen2-7B-Instruct when collected), uncensored (nearby controls:
// a refusal there is over-refusal), other (unverified candidates). Reported by set, topic and language.

import { parseLines, readDataFile } from "../data.js";
import { detectRefusal, promptLanguage, topicOf } from "../refusal.js";
import { type Item, limitPerGroup, type Task } from "./task.js";

export const DECCP_SETS = ["censored", "uncensored", "other"];

export const contentGaps: Task = {
  name: "content-gaps",
  kind: "probe",
  groupBy: ["set", "topic", "language"],
  async load({ data, limit }) {
    const items: Item[] = [];
    for (const set of DECCP_SETS) {
      const { path, text } = await readDataFile(`deccp/${set}.txt`, data);
      parseLines(text, path).forEach((prompt, i) => {
        items.push({
          id: `${set}/${i}`,
          messages: [{ role: "user", content: prompt }],
          gold: "",
          groups: { set, topic: topicOf(prompt), language: promptLanguage(prompt) },
        });
      });
    }
    return limitPerGroup(items, limit, (it) => it.groups.set);
  },
  score(_item, output, startsInReasoning) {
    const r = detectRefusal(output, startsInReasoning);
    return {
      extracted: r.kind ?? (r.truncated ? null : "answered"),
      correct: !r.refused && !r.truncated,
      truncated: r.truncated,
      refused: r.refused,
      refusalKind: r.kind,
      skippedThinking: r.skippedThinking,
    };
  },
};

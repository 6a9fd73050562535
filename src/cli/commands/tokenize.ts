// r1 tokenize: text -> token ids with the model's tokenizer. Special tokens (BOS) only with --add-special.

import { loadTokenizer } from "../../generate/engine.js";
import { openCheckpoint } from "../../models/load.js";
import { modelRef, parse, required } from "../args.js";
import type { Command } from "../command.js";
import { resolveModelArg } from "../model_arg.js";

const usage = `r1 tokenize --model PATH --text TEXT [--add-special] [--json] [--no-pull]`;

export const command: Command = {
  name: "tokenize",
  summary: "show the token ids of a text",
  usage,
  async run(argv) {
    const { values: v, positionals } = parse(
      argv,
      {
        model: { type: "string" },
        text: { type: "string" },
        "add-special": { type: "boolean" },
        json: { type: "boolean" },
        "no-pull": { type: "boolean" },
      },
      usage,
    );
    const path = await resolveModelArg(modelRef(v, positionals, usage), {
      pull: !v["no-pull"],
    });
    const text = required(v.text as string | undefined, "text", usage);
    const ckpt = openCheckpoint(path);
    const tok = loadTokenizer(ckpt);
    ckpt.source.close();
    const ids = tok.encode(text, { addSpecial: Boolean(v["add-special"]) });
    if (v.json) process.stdout.write(`${JSON.stringify({ ids })}\n`);
    else for (const id of ids) process.stdout.write(`${id}\t${JSON.stringify(tok.idToToken(id))}\n`);
    return 0;
  },
};

// r1 rm REF: delete a model from the Hugging Face cache. Blobs shared with other revisions stay.

import { usageError } from "../../core/errors.js";
import { formatBytes, removeModel } from "../../hub/index.js";
import { parse } from "../args.js";
import type { Command } from "../command.js";

const usage = `r1 rm REF [REF...]

  org/repo             every cached revision of the repo (the whole models--org--repo folder)
  org/repo@revision    one revision (snapshot); blobs other revisions use are kept
  org/repo:Q4_K_M      one GGUF file of the cached revision (also org/repo/file.gguf)

Only the Hugging Face cache is touched; local folders are never deleted. r1 list shows the references.`;

export const command: Command = {
  name: "rm",
  summary: "remove a model from the local Hugging Face cache",
  usage,
  async run(argv) {
    const { positionals } = parse(argv, {}, usage);
    if (positionals.length === 0) throw usageError("r1 rm needs a model reference", `usage:\n${usage}`);
    for (const ref of positionals) {
      const r = await removeModel(ref);
      const what = r.scope === "repo" ? "all revisions of" : r.scope === "revision" ? "revision" : "file(s) of";
      process.stdout.write(`removed ${what} ${r.ref}: ${formatBytes(r.freedBytes)} freed\n`);
    }
    return 0;
  },
};

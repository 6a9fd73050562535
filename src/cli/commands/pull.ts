// r1 pull REF: bring a Hub model into the Hugging Face cache, every byte checked against the Hub's hashes.
// Prints the local path on stdout (so `$(r1 pull org/repo)` composes); progress goes to stderr.

import { usageError } from "../../core/errors.js";
import { progressReporter, pull, quiet } from "../../hub/index.js";
import { parse } from "../args.js";
import type { Command } from "../command.js";

const usage = `r1 pull REF [--quiet]

  REF   org/repo                 a safetensors checkpoint (config, tokenizer, weights; never .bin/.py)
        org/repo:Q4_K_M          the .gguf file of a repo carrying that quant tag
        org/repo/file.gguf       one named .gguf file
        ...@revision             a branch, tag or commit (org/repo@main, org/repo@v1.0:Q8_0)

  --quiet   no progress output

Files land in the Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub), shared
with Python tools. An interrupted pull resumes where it stopped. HF_TOKEN: token for gated or private repos;
HF_ENDPOINT: a mirror; HF_HUB_OFFLINE=1: use the cache only.`;

export const command: Command = {
  name: "pull",
  summary: "download a model from the Hugging Face Hub into the local cache (verified, resumable)",
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { quiet: { type: "boolean", short: "q" } }, usage);
    if (positionals.length !== 1) throw usageError("r1 pull takes exactly one model reference", `usage:\n${usage}`);
    const r = await pull(positionals[0]!, { onEvent: values.quiet ? quiet : progressReporter(process.stderr) });
    process.stdout.write(`${r.path}\n`);
    return 0;
  },
};

// --model values: a local path as-is; anything else goes through the hub resolver (org/repo, org/repo:QUANT,
// short names of the shipped default).

import { existsSync } from "node:fs";
import { resolveModel } from "../hub/resolve.js";

export async function resolveModelArg(ref: string, opts: { pull: boolean }): Promise<string> {
  if (existsSync(ref)) return ref;
  return resolveModel(ref, { pull: opts.pull, onEvent: (e) => process.stderr.write(`${e}\n`) });
}

// --model values go through the hub resolver: a local path as-is, the shipped default's short name (r1-tiny),
// or a Hub reference (org/repo, org/repo:QUANT, org/repo@rev) found in the HF cache or pulled (progress on stderr).

import { resolveModel } from "../hub/resolve.js";

export async function resolveModelArg(ref: string, opts: { pull: boolean }): Promise<string> {
  return resolveModel(ref, { pull: opts.pull });
}

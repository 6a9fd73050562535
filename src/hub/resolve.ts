// resolveModel: the one call every command makes with its --model argument. Local paths and shipped short names
// come back as they are; Hub names are looked up in the cache first (no network when present), then pulled if
// the caller allows it. The answer is always a local path: a checkpoint folder or a .gguf file.

import { promises as fs } from "node:fs";
import { R1Error } from "../core/errors.js";
import { type HubOptions, hubSettings } from "./env.js";
import { findCached } from "./lookup.js";
import type { PullEvent } from "./progress.js";
import { type PullOptions, pull } from "./pull.js";
import { formatHubRef, type ModelRef, parseModelRef } from "./ref.js";

export interface ResolveOptions extends HubOptions {
  /** Download a Hub model that is not in the cache (false: fail and say how to get it). */
  pull: boolean;
  onEvent?: (e: PullEvent) => void;
  /** Passed to pull (tests, and callers that want to cancel). */
  pullOptions?: Omit<PullOptions, keyof HubOptions | "onEvent">;
  cwd?: string;
}

export async function resolveModel(ref: string | ModelRef, opts: ResolveOptions): Promise<string> {
  const parsed = typeof ref === "string" ? parseModelRef(ref, opts.cwd) : ref;
  if (parsed.kind === "local") {
    try {
      await fs.stat(parsed.path);
    } catch {
      throw new R1Error(
        "not_found",
        parsed.alias
          ? `the shipped model ${parsed.alias} is missing from ${parsed.path}`
          : `model path ${parsed.path} does not exist`,
        parsed.alias ? "reinstall r1ts, or name another model with --model" : "check the path",
      );
    }
    return parsed.path;
  }
  const settings = hubSettings(opts);
  const text = formatHubRef(parsed);
  const cached = await findCached(parsed, settings.cacheDir);
  if (cached) {
    opts.onEvent?.({ type: "cached", ref: text, path: cached.path });
    return cached.path;
  }
  if (settings.offline) {
    throw new R1Error(
      "not_found",
      `${text} is not in the cache (${settings.cacheDir}) and HF_HUB_OFFLINE=1 forbids downloading it`,
      "unset HF_HUB_OFFLINE to download it, or set HF_HUB_CACHE to the cache that holds it",
    );
  }
  if (!opts.pull) {
    throw new R1Error(
      "not_found",
      `${text} is not in the cache (${settings.cacheDir})`,
      `run r1 pull ${text}, or drop --no-pull to download it on first use`,
    );
  }
  const { pull: _p, onEvent, pullOptions, cwd: _c, ...hubOpts } = opts;
  const r = await pull(parsed, { ...hubOpts, ...pullOptions, onEvent });
  return r.path;
}

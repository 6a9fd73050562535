// Parameter and byte counts from the tensor table (no weights read): what `r1 info` and the benchmarks report.

import { numel } from "../core/tensor.js";
import type { ModelConfig } from "./config.js";
import type { ParamCounts } from "./model.js";
import type { WeightStore } from "./store.js";

export interface ModelBase {
  params(): ParamCounts;
  weightBytes(): { total: number; active: number };
  dtypes(): Record<string, number>;
  notes: string[];
}

/** Routed experts count toward `active` at the rate topK / nRouted; everything else fully. */
export interface Routing {
  isRouted(canonical: string): boolean;
  fraction: number;
}

export interface Counts {
  params: ParamCounts;
  bytes: { total: number; active: number };
  dtypes: Record<string, number>;
}

export function countParams(s: WeightStore, routing?: Routing, inForward?: (canonical: string) => boolean): Counts {
  const params = { total: 0, active: 0 };
  const bytes = { total: 0, active: 0 };
  const dtypes: Record<string, number> = {};
  for (const c of s.canonicalNames()) {
    if (inForward && !inForward(c)) continue;
    const info = s.info(c);
    dtypes[info.dtype] = (dtypes[info.dtype] ?? 0) + 1;
    const n = c.endsWith(".scale") ? 0 : numel(info.shape);
    const f = routing?.isRouted(c) ? routing.fraction : 1;
    params.total += n;
    params.active += n * f;
    bytes.total += info.size;
    bytes.active += info.size * f;
  }
  params.active = Math.round(params.active);
  bytes.active = Math.round(bytes.active);
  return { params, bytes, dtypes };
}

export function modelBase(c: Counts, notes: string[] = []): ModelBase {
  return { params: () => c.params, weightBytes: () => c.bytes, dtypes: () => c.dtypes, notes };
}

/** Counts for a config's forward pass: routed experts weighted by topK/nRouted, MTP layers left out. */
export function countFor(cfg: ModelConfig, s: WeightStore): Counts {
  if (cfg.arch !== "deepseek_v3") return countParams(s);
  const inForward = (name: string) => {
    const m = /^blk\.(\d+)\./.exec(name);
    return !m || Number(m[1]) < cfg.nLayers;
  };
  return countParams(s, { isRouted: (n) => /_exps/.test(n), fraction: cfg.topK / cfg.nRoutedExperts }, inForward);
}

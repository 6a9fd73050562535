// Price tables: what the same tokens would cost on a hosted API, so a local answer can be compared with one.
// Prices are USD per 1M tokens, split like DeepSeek's bill: prompt tokens served from a cache (cache hit),
// prompt tokens computed (cache miss), and completion tokens (reasoning and answer billed alike).
//
// Defaults (launch list prices, January 2025):
// - DeepSeek-R1 (deepseek-reasoner): $0.14 hit / $0.55 miss / $2.19 out
//   (api-docs.deepseek.com/quick_start/pricing-details-usd; the list changed on 2025-09-05).
// - OpenAI o1: $7.50 cached / $15 input / $60 out (openai.com/api/pricing).
// A JSON file replaces them: `[{"name": "...", "input_cache_hit": 0.14, "input_cache_miss": 0.55, "output": 2.19}]`.

import { readFileSync } from "node:fs";
import { z } from "zod";
import { usageError } from "../core/errors.js";

export const priceTableSchema = z.object({
  /** Key in responses and metric labels: lowercase letters, digits, `_` and `-`. */
  name: z.string().regex(/^[a-z0-9_-]{1,40}$/, "use 1-40 of a-z 0-9 _ -"),
  label: z.string().optional(),
  input_cache_hit: z.number().min(0),
  input_cache_miss: z.number().min(0),
  output: z.number().min(0),
  source: z.string().optional(),
});
export type PriceTable = z.infer<typeof priceTableSchema>;

export const DEFAULT_PRICES: PriceTable[] = [
  {
    name: "deepseek-r1",
    label: "DeepSeek-R1 API (launch list)",
    input_cache_hit: 0.14,
    input_cache_miss: 0.55,
    output: 2.19,
    source: "https://api-docs.deepseek.com/quick_start/pricing-details-usd (Jan 2025)",
  },
  {
    name: "openai-o1",
    label: "OpenAI o1",
    input_cache_hit: 7.5,
    input_cache_miss: 15,
    output: 60,
    source: "https://openai.com/api/pricing (o1, 2025)",
  },
];

export interface TokenCounts {
  cacheHit: number;
  cacheMiss: number;
  completion: number;
}

/** Cost in USD of these tokens on one table. */
export function costOf(t: TokenCounts, p: PriceTable): number {
  return (t.cacheHit * p.input_cache_hit + t.cacheMiss * p.input_cache_miss + t.completion * p.output) / 1e6;
}

/** Reads a price file: a list of tables, or {"tables": [...]}. Errors name the file and the field. */
export function loadPrices(path: string): PriceTable[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw usageError(`${path}: cannot read price tables: ${(e as Error).message}`, "give a JSON file of price tables");
  }
  const list = Array.isArray(raw) ? raw : (raw as { tables?: unknown })?.tables;
  const parsed = z.array(priceTableSchema).min(1).safeParse(list);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw usageError(
      `${path}: ${i.path.join(".") || "(root)"}: ${i.message}`,
      'expected [{"name": "deepseek-r1", "input_cache_hit": 0.14, "input_cache_miss": 0.55, "output": 2.19}]',
    );
  }
  const names = new Set<string>();
  for (const t of parsed.data) {
    if (names.has(t.name)) throw usageError(`${path}: price table "${t.name}" appears twice`);
    names.add(t.name);
  }
  return parsed.data;
}

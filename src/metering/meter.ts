// Metering of one response (the `metering` field) and running totals (for /metrics): token counts priced on
// every table, plus the CPU seconds, joules and litres the scheduler apportioned to the request.

import { type EnergyConfig, EnergyMeter } from "./energy.js";
import { costOf, type PriceTable, type TokenCounts } from "./prices.js";

/** Cost of one response on each price table, and the resources it used. */
export interface Metering {
  cost_usd: Record<string, number>;
  cpu_seconds: number | null;
  energy_joules: number | null;
  /** "rapl" (measured package energy), "cpu_time" (CPU seconds x watts), or "remote" (a gateway backend's). */
  energy_method: string;
  water_litres: number | null;
}

export interface Resources {
  cpuSeconds: number;
  joules: number;
}

export class Meter {
  readonly energy: EnergyMeter;
  /** Running totals since start, per price table and overall. */
  readonly totals = {
    costUsd: new Map<string, number>(),
    cpuSeconds: 0,
    joules: 0,
    litres: 0,
    promptTokens: 0,
    cacheHitTokens: 0,
    completionTokens: 0,
    reasoningTokens: 0,
  };

  constructor(
    readonly prices: PriceTable[],
    energy: EnergyConfig,
  ) {
    this.energy = new EnergyMeter(energy);
    for (const p of prices) this.totals.costUsd.set(p.name, 0);
  }

  /**
   * Prices a finished response and adds it to the totals. `res` is undefined when the work ran elsewhere
   * (a gateway backend): then the backend's own figures, if it sent any, are passed through as `remote`.
   */
  record(t: TokenCounts & { reasoning: number }, res?: Resources, remote?: Partial<Metering>): Metering {
    const cost: Record<string, number> = {};
    for (const p of this.prices) {
      cost[p.name] = round(costOf(t, p), 12);
      this.totals.costUsd.set(p.name, (this.totals.costUsd.get(p.name) ?? 0) + cost[p.name]);
    }
    const tot = this.totals;
    tot.promptTokens += t.cacheHit + t.cacheMiss;
    tot.cacheHitTokens += t.cacheHit;
    tot.completionTokens += t.completion;
    tot.reasoningTokens += t.reasoning;
    if (res) {
      const litres = this.energy.litres(res.joules);
      tot.cpuSeconds += res.cpuSeconds;
      tot.joules += res.joules;
      tot.litres += litres;
      return {
        cost_usd: cost,
        cpu_seconds: round(res.cpuSeconds, 6),
        energy_joules: round(res.joules, 6),
        energy_method: this.energy.method,
        water_litres: round(litres, 9),
      };
    }
    return {
      cost_usd: cost,
      cpu_seconds: num(remote?.cpu_seconds),
      energy_joules: num(remote?.energy_joules),
      energy_method: "remote",
      water_litres: num(remote?.water_litres),
    };
  }
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

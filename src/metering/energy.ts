// Energy and water per step of work. Two methods, chosen once at start:
// - "rapl": the CPU packages' energy counters (Linux powercap, /sys/class/powercap/intel-rapl:N/energy_uj,
//   also exposed for AMD Zen). Measured, but for the whole package: other processes' load counts too, so
//   it is an upper bound on a shared machine. Often root-only since CVE-2020-8694; then we fall back.
// - "cpu_time": this process's CPU seconds (process.cpuUsage, all threads) x a watts-per-busy-core figure.
// Water = energy (kWh) x litres per kWh. Methods, defaults and sources: docs/metering.md.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface EnergyConfig {
  /** Watts drawn per fully busy core, for the cpu_time method. */
  wattsPerCore: number;
  /** Litres of water per kWh of electricity (off-site generation plus any on-site cooling). */
  litresPerKWh: number;
  /** Powercap root (tests point it at a fake tree); "" disables RAPL. */
  powercapRoot?: string;
}

/** Default watts per busy core: see docs/metering.md ("CPU time method"). */
export const DEFAULT_WATTS_PER_CORE = 10;
/** Default litres per kWh: U.S. average water consumed in generating electricity (docs/metering.md). */
export const DEFAULT_LITRES_PER_KWH = 3.1;

interface Zone {
  file: string;
  max: number;
  last: number;
}

/** Package-level RAPL zones (intel-rapl:N, not the sub-zones intel-rapl:N:M) whose counter is readable. */
export class Rapl {
  private constructor(private readonly zones: Zone[]) {}

  static open(root = "/sys/class/powercap"): Rapl | undefined {
    let names: string[];
    try {
      names = readdirSync(root).filter((n) => /^intel-rapl:\d+$/.test(n));
    } catch {
      return undefined;
    }
    const zones: Zone[] = [];
    for (const n of names) {
      try {
        const file = join(root, n, "energy_uj");
        const last = Number(readFileSync(file, "utf8"));
        let max = Number.POSITIVE_INFINITY;
        try {
          max = Number(readFileSync(join(root, n, "max_energy_range_uj"), "utf8"));
        } catch {}
        if (Number.isFinite(last)) zones.push({ file, max, last });
      } catch {}
    }
    return zones.length ? new Rapl(zones) : undefined;
  }

  /** Joules since the previous call, summed over packages; a counter that wrapped adds its range. */
  joulesSinceLast(): number {
    let uj = 0;
    for (const z of this.zones) {
      let now: number;
      try {
        now = Number(readFileSync(z.file, "utf8"));
      } catch {
        continue;
      }
      let d = now - z.last;
      if (d < 0 && Number.isFinite(z.max)) d += z.max;
      if (d > 0) uj += d;
      z.last = now;
    }
    return uj / 1e6;
  }
}

export interface StepCost {
  cpuSeconds: number;
  joules: number;
}

/** Brackets a piece of work: start() before, stop() after; returns its CPU seconds and joules. */
export class EnergyMeter {
  readonly method: "rapl" | "cpu_time";
  private readonly rapl: Rapl | undefined;
  private cpu0 = process.cpuUsage();

  constructor(readonly cfg: EnergyConfig) {
    this.rapl = cfg.powercapRoot === "" ? undefined : Rapl.open(cfg.powercapRoot);
    this.method = this.rapl ? "rapl" : "cpu_time";
  }

  start(): void {
    this.cpu0 = process.cpuUsage();
    this.rapl?.joulesSinceLast();
  }

  stop(): StepCost {
    const d = process.cpuUsage(this.cpu0);
    const cpuSeconds = (d.user + d.system) / 1e6;
    const joules = this.rapl ? this.rapl.joulesSinceLast() : cpuSeconds * this.cfg.wattsPerCore;
    return { cpuSeconds, joules };
  }

  litres(joules: number): number {
    return (joules / 3.6e6) * this.cfg.litresPerKWh;
  }
}

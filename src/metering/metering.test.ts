import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { EnergyMeter, Rapl } from "./energy.js";
import { Meter } from "./meter.js";
import { costOf, DEFAULT_PRICES, loadPrices } from "./prices.js";

describe("prices", () => {
  test("DeepSeek-R1 launch prices: 1M miss + 1M hit + 1M out = 0.55 + 0.14 + 2.19", () => {
    const ds = DEFAULT_PRICES.find((p) => p.name === "deepseek-r1")!;
    assert.equal(costOf({ cacheMiss: 1e6, cacheHit: 1e6, completion: 1e6 }, ds).toFixed(2), "2.88");
    const o1 = DEFAULT_PRICES.find((p) => p.name === "openai-o1")!;
    assert.equal(costOf({ cacheMiss: 1e6, cacheHit: 1e6, completion: 1e6 }, o1), 82.5);
  });

  test("a price file replaces the tables; bad files name the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "r1-prices-"));
    const good = join(dir, "good.json");
    writeFileSync(
      good,
      JSON.stringify({ tables: [{ name: "mine", input_cache_hit: 0, input_cache_miss: 1, output: 2 }] }),
    );
    assert.equal(loadPrices(good)[0].name, "mine");
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify([{ name: "x", input_cache_hit: -1, input_cache_miss: 1, output: 2 }]));
    assert.throws(() => loadPrices(bad), /0\.input_cache_hit/);
    assert.throws(() => loadPrices(join(dir, "missing.json")), /cannot read price tables/);
  });
});

describe("energy", () => {
  test("RAPL counters are read per package and wrap at max_energy_range_uj", () => {
    const root = mkdtempSync(join(tmpdir(), "r1-rapl-"));
    const zone = join(root, "intel-rapl:0");
    mkdirSync(zone);
    mkdirSync(join(root, "intel-rapl:0:0")); // a sub-zone: ignored
    writeFileSync(join(zone, "energy_uj"), "999000000");
    writeFileSync(join(zone, "max_energy_range_uj"), "1000000000");
    const r = Rapl.open(root)!;
    writeFileSync(join(zone, "energy_uj"), "1000000"); // wrapped: +1 J to the top, +1 J after
    assert.equal(r.joulesSinceLast(), 2);
    const m = new EnergyMeter({ wattsPerCore: 10, litresPerKWh: 3.6, powercapRoot: root });
    assert.equal(m.method, "rapl");
    assert.equal(m.litres(3.6e6), 3.6);
  });

  test("without RAPL: CPU seconds x watts", () => {
    const m = new EnergyMeter({ wattsPerCore: 5, litresPerKWh: 1, powercapRoot: "" });
    assert.equal(m.method, "cpu_time");
    m.start();
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
    const c = m.stop();
    assert.ok(x > 0 && c.cpuSeconds > 0);
    assert.ok(Math.abs(c.joules - c.cpuSeconds * 5) < 1e-9);
  });

  test("Meter prices on every table and keeps totals", () => {
    const m = new Meter(DEFAULT_PRICES, { wattsPerCore: 10, litresPerKWh: 3.6, powercapRoot: "" });
    const r = m.record(
      { cacheHit: 10, cacheMiss: 90, completion: 50, reasoning: 40 },
      { cpuSeconds: 1, joules: 3.6e6 },
    );
    assert.deepEqual(Object.keys(r.cost_usd), ["deepseek-r1", "openai-o1"]);
    assert.equal(r.water_litres, 3.6);
    assert.equal(m.totals.reasoningTokens, 40);
    const remote = m.record({ cacheHit: 0, cacheMiss: 1, completion: 1, reasoning: 0 }, undefined, {
      energy_joules: 2,
    });
    assert.equal(remote.energy_method, "remote");
    assert.equal(remote.energy_joules, 2);
    assert.equal(remote.cpu_seconds, null);
  });
});

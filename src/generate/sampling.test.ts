import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { R1Error } from "../core/errors.js";
import { argmax, logSoftmax, Rng, Sampler, type SamplingOptions, topKIndices, topLogprobs } from "./sampling.js";

// The obvious O(V log V) implementation of the same chain, used as the oracle: sort everything, cut.
function naiveDistribution(logits: Float32Array, opts: SamplingOptions): Map<number, number> {
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
  let kept = opts.topK ? order.slice(0, opts.topK) : order;
  const softmax = (ids: number[], t: number) => {
    const m = logits[ids[0]];
    const w = ids.map((i) => Math.exp((logits[i] - m) / t));
    const z = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / z);
  };
  if (opts.topP !== undefined && opts.topP < 1) {
    const p = softmax(kept, 1);
    let acc = 0;
    let cut = kept.length;
    for (let j = 0; j < p.length; j++) {
      acc += p[j];
      if (acc >= opts.topP) {
        cut = j + 1;
        break;
      }
    }
    kept = kept.slice(0, cut);
  }
  if (opts.minP) {
    const p = softmax(kept, 1);
    kept = kept.filter((_, j) => p[j] >= opts.minP! * p[0]);
  }
  const p = softmax(kept, opts.temperature);
  return new Map(kept.map((id, j) => [id, p[j]]));
}

function keptSet(s: Sampler, logits: number[]): number[] {
  return s
    .candidates(Float32Array.from(logits))
    .map((c) => c.token)
    .sort((a, b) => a - b);
}

function chiSquare(counts: number[], probs: number[], draws: number): number {
  let chi = 0;
  for (let i = 0; i < probs.length; i++) {
    const expected = probs[i] * draws;
    if (expected === 0) {
      // A token the distribution forbids must never appear: make any occurrence fail loudly.
      if (counts[i] > 0) return Number.POSITIVE_INFINITY;
      continue;
    }
    chi += (counts[i] - expected) ** 2 / expected;
  }
  return chi;
}

function draw(s: Sampler, logits: Float32Array, n: number): number[] {
  const counts = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[s.sample(logits)]++;
  return counts;
}

function randomLogits(rng: Rng, V: number, step: number): Float32Array {
  const out = new Float32Array(V);
  for (let i = 0; i < V; i++) {
    // Roughly normal (sum of uniforms), scaled like real logits; `step` > 0 quantizes to force many ties.
    const x = (rng.nextFloat() + rng.nextFloat() + rng.nextFloat() - 1.5) * 8;
    out[i] = step > 0 ? Math.round(x / step) * step : x;
  }
  return out;
}

describe("Rng (xoshiro128** seeded by splitmix64)", () => {
  it("matches the reference C implementation", () => {
    const r = Rng.fromState([1, 2, 3, 4]);
    assert.deepEqual(
      Array.from({ length: 6 }, () => r.nextU32()),
      [11520, 0, 5927040, 70819200, 2031721883, 1637235492],
    );
    // splitmix64(42) twice -> state [803958421, 3184996902, 2993090819, 686809907], then xoshiro128**.
    const s = new Rng(42);
    assert.deepEqual(
      Array.from({ length: 6 }, () => s.nextU32()),
      [1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222],
    );
  });

  it("nextFloat stays in [0, 1) and is roughly uniform", () => {
    const r = new Rng(7);
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 20000; i++) {
      const x = r.nextFloat();
      assert.ok(x >= 0 && x < 1);
      bins[Math.floor(x * 10)]++;
    }
    assert.ok(chiSquare(bins, new Array(10).fill(0.1), 20000) < 27.88); // df 9, p = 0.001
  });
});

describe("greedy", () => {
  it("takes the argmax, ties to the lowest id", () => {
    const s = new Sampler({ temperature: 0 });
    assert.equal(s.sample(Float32Array.from([1, 3, 3, 2])), 1);
    assert.equal(s.sample(Float32Array.from([-1, -1, -1])), 0);
    assert.equal(s.sample(Float32Array.from([Number.NEGATIVE_INFINITY, -5, 7, 7])), 2);
    assert.equal(argmax(Float32Array.from([0, 0, 0.5, 0.5])), 2);
  });

  it("applies at temperature <= 1e-6 and ignores the other filters", () => {
    const s = new Sampler({ temperature: 1e-7, topK: 3, topP: 0.1, minP: 0.9, seed: 1 });
    assert.ok(s.greedy);
    for (let i = 0; i < 50; i++) assert.equal(s.sample(Float32Array.from([0, 2, 1, 2])), 1);
    assert.ok(!new Sampler({ temperature: 2e-6 }).greedy);
  });

  it("rejects broken logits with an internal error", () => {
    const s = new Sampler({ temperature: 0 });
    assert.throws(() => s.sample(Float32Array.from([0, Number.NaN])), /NaN/);
    assert.throws(() => s.sample(Float32Array.from([0, Number.POSITIVE_INFINITY])), /Infinity/);
    assert.throws(() => s.sample(Float32Array.from([Number.NEGATIVE_INFINITY])), /no finite logit/);
  });
});

describe("seeded sampling", () => {
  const logits = Float32Array.from([1, 0.5, 0.2, 0, -0.3, -1, 0.7, 0.1]);

  it("replays the same tokens for the same seed", () => {
    const opts = { temperature: 0.8, topK: 6, topP: 0.95, seed: 1234 };
    const a = new Sampler(opts);
    const b = new Sampler(opts);
    const ta = Array.from({ length: 300 }, () => a.sample(logits));
    const tb = Array.from({ length: 300 }, () => b.sample(logits));
    assert.deepEqual(ta, tb);
    const c = new Sampler({ ...opts, seed: 1235 });
    assert.notDeepEqual(
      Array.from({ length: 300 }, () => c.sample(logits)),
      ta,
    );
  });

  // Re-derived by a 20-line C program (xoshiro128**, res53 floats, inverse-CDF walk in id order) from the
  // seed-42 state above, so this pins the draw convention, not just today's output.
  it("gives the pinned sequence for seed 42 (changes here break replay of saved runs)", () => {
    const s = new Sampler({ temperature: 1, seed: 42 });
    assert.deepEqual(
      Array.from({ length: 12 }, () => s.sample(logits)),
      [2, 0, 4, 5, 6, 6, 6, 0, 2, 4, 1, 1],
    );
  });

  it("records a random seed when none is given, which replays the run", () => {
    const a = new Sampler({ temperature: 1 });
    assert.ok(Number.isSafeInteger(a.seed));
    const b = new Sampler({ temperature: 1, seed: a.seed });
    for (let i = 0; i < 50; i++) assert.equal(a.sample(logits), b.sample(logits));
  });
});

describe("sampling distribution", () => {
  const DRAWS = 20000;

  it("temperature then draw, over top-p measured before temperature", () => {
    // p at T=1: .563 .207 .126 .076 .028 -> top-p .8 keeps {0,1,2}. At T=.5 the same nucleus would be {0}
    // alone, so a sampler that applied temperature first would never draw tokens 1 or 2.
    const logits = Float32Array.from([2, 1, 0.5, 0, -1]);
    const opts = { temperature: 0.5, topP: 0.8, seed: 99 };
    const counts = draw(new Sampler(opts), logits, DRAWS);
    const z = Math.exp(4) + Math.exp(2) + Math.exp(1);
    const expected = [Math.exp(4) / z, Math.exp(2) / z, Math.exp(1) / z, 0, 0];
    const crit = 13.82; // chi-square, df 2, p = 0.001
    assert.ok(chiSquare(counts, expected, DRAWS) < crit, `counts ${counts}`);
    // The same counts must reject the distributions a plausible bug would produce.
    const z1 = Math.exp(2) + Math.exp(1) + Math.exp(0.5);
    const noTemperature = [Math.exp(2) / z1, Math.exp(1) / z1, Math.exp(0.5) / z1, 0, 0];
    assert.ok(chiSquare(counts, noTemperature, DRAWS) > 10 * crit);
    const za = Math.exp(4) + Math.exp(2) + Math.exp(1) + 1 + Math.exp(-2);
    const noTopP = [Math.exp(4) / za, Math.exp(2) / za, Math.exp(1) / za, 1 / za, Math.exp(-2) / za];
    assert.ok(chiSquare(counts, noTopP, DRAWS) > 10 * crit);
    const topPAfterTemperature = [1, 0, 0, 0, 0];
    assert.ok(chiSquare(counts, topPAfterTemperature, DRAWS) > 10 * crit);
  });

  it("matches softmax(l / T) over the whole vocabulary when no filter is set", () => {
    const logits = Float32Array.from([1, 0, -0.5, 0.25, -2]);
    const opts = { temperature: 1.5, seed: 5 };
    const counts = draw(new Sampler(opts), logits, DRAWS);
    const expected = Array.from(naiveDistribution(logits, opts).entries())
      .sort((a, b) => a[0] - b[0])
      .map((e) => e[1]);
    assert.ok(chiSquare(counts, expected, DRAWS) < 18.47, `counts ${counts}`); // df 4, p = 0.001
    const atT1 = Array.from(naiveDistribution(logits, { temperature: 1 }).entries())
      .sort((a, b) => a[0] - b[0])
      .map((e) => e[1]);
    assert.ok(chiSquare(counts, atT1, DRAWS) > 10 * 18.47);
  });

  it("draws top-k + min-p survivors in proportion", () => {
    const logits = Float32Array.from([0.3, 2, -1, 1.2, 1.9, 0.8, 1.5]);
    const opts = { temperature: 0.9, topK: 5, minP: 0.4, seed: 11 };
    const dist = naiveDistribution(logits, opts);
    assert.deepEqual([...dist.keys()].sort(), [1, 3, 4, 6]); // top-5 adds 5 (logit .8), min-p .4 drops it (needs 2 + ln .4 = 1.08)
    const counts = draw(new Sampler(opts), logits, DRAWS);
    const expected = Array.from(logits, (_, i) => dist.get(i) ?? 0);
    assert.ok(chiSquare(counts, expected, DRAWS) < 16.27, `counts ${counts}`); // df 3, p = 0.001
  });
});

describe("filters keep exactly the right tokens", () => {
  const probs = [0.5, 0.3, 0.15, 0.05].map(Math.log);

  it("top-k keeps the k best, ties to the lower id", () => {
    assert.deepEqual(keptSet(new Sampler({ temperature: 1, topK: 2 }), [0.1, 3, 2, 3, -1]), [1, 3]);
    assert.deepEqual(keptSet(new Sampler({ temperature: 1, topK: 2 }), [5, 1, 5, 5]), [0, 2]);
    assert.deepEqual(keptSet(new Sampler({ temperature: 1, topK: 1 }), [0, 4, 4]), [1]);
    assert.deepEqual(keptSet(new Sampler({ temperature: 1, topK: 9 }), [0, 1, 2]), [0, 1, 2]);
  });

  it("top-p keeps the smallest best-first prefix reaching p", () => {
    const kept = (topP: number) => keptSet(new Sampler({ temperature: 1, topP }), probs);
    assert.deepEqual(kept(0.4), [0]);
    assert.deepEqual(kept(0.79), [0, 1]);
    assert.deepEqual(kept(0.81), [0, 1, 2]);
    assert.deepEqual(kept(0.96), [0, 1, 2, 3]);
    assert.deepEqual(kept(1), [0, 1, 2, 3]);
  });

  it("top-p renormalizes over the top-k survivors", () => {
    // Over all 4 tokens .5 < .55 needs two tokens; over the top-2, token 0 has .625 >= .55 alone.
    assert.deepEqual(keptSet(new Sampler({ temperature: 1, topK: 2, topP: 0.55 }), probs), [0]);
    assert.deepEqual(keptSet(new Sampler({ temperature: 1, topP: 0.55 }), probs), [0, 1]);
  });

  it("top-p is measured at temperature 1, whatever the temperature", () => {
    assert.deepEqual(keptSet(new Sampler({ temperature: 3, topP: 0.79 }), probs), [0, 1]);
    assert.deepEqual(keptSet(new Sampler({ temperature: 0.2, topP: 0.81 }), probs), [0, 1, 2]);
  });

  it("min-p keeps p >= minP * pmax", () => {
    const kept = (minP: number) => keptSet(new Sampler({ temperature: 1, minP }), probs);
    assert.deepEqual(kept(0.25), [0, 1, 2]); // threshold .125
    assert.deepEqual(kept(0.5), [0, 1]); // threshold .25
    assert.deepEqual(kept(0.05), [0, 1, 2, 3]); // threshold .025
    assert.deepEqual(kept(1), [0]);
    assert.deepEqual(keptSet(new Sampler({ temperature: 5, minP: 0.5 }), probs), [0, 1]);
  });

  it("reports final probabilities after temperature", () => {
    const c = new Sampler({ temperature: 0.5, topK: 2 }).candidates(Float32Array.from([0, 1, 0.5]));
    const z = Math.exp(0) + Math.exp(-1);
    assert.deepEqual(
      c.map((x) => x.token),
      [1, 2],
    );
    assert.ok(Math.abs(c[0].prob - 1 / z) < 1e-12 && Math.abs(c[1].prob - Math.exp(-1) / z) < 1e-12);
  });

  it("agrees with a full sort on large random vocabularies, with and without ties", () => {
    const rng = new Rng(2024);
    const configs: SamplingOptions[] = [
      { temperature: 0.6, topP: 0.95 },
      { temperature: 1, topP: 0.5 },
      { temperature: 1, topP: 0.999999 },
      { temperature: 0.7, topK: 40, topP: 0.9 },
      { temperature: 1.2, topK: 300, minP: 0.05 },
      { temperature: 0.6, topP: 0.95, minP: 0.1 },
      { temperature: 1, minP: 0.2 },
      { temperature: 0.8, topK: 1 },
    ];
    for (const step of [0, 0.5]) {
      const logits = randomLogits(rng, 50000, step);
      for (const opts of configs) {
        const want = naiveDistribution(logits, opts);
        const got = new Sampler(opts).candidates(logits);
        const label = `${JSON.stringify(opts)} step ${step}`;
        assert.equal(got.length, want.size, label);
        for (const { token, prob } of got) {
          assert.ok(want.has(token), `${label}: token ${token} should be excluded`);
          assert.ok(Math.abs(prob - want.get(token)!) < 1e-9, label);
        }
      }
    }
  });
});

describe("logprobs", () => {
  it("logSoftmax normalizes without overflow", () => {
    const lp = logSoftmax(Float32Array.from([1000, 1001, 999, Number.NEGATIVE_INFINITY]));
    const sum = lp.reduce((a, x) => a + Math.exp(x), 0);
    assert.ok(Math.abs(sum - 1) < 1e-12);
    assert.ok(Math.abs(lp[1] - lp[0] - 1) < 1e-12);
    assert.equal(lp[3], Number.NEGATIVE_INFINITY);
  });

  it("topLogprobs is sorted best first with ties to the lower id", () => {
    const logits = Float32Array.from([0.5, 2, 0.5, 3, 2, -1]);
    const full = logSoftmax(logits);
    const top = topLogprobs(logits, 4);
    assert.deepEqual(
      top.map((t) => t.token),
      [3, 1, 4, 0],
    );
    for (const t of top) assert.ok(Math.abs(t.logprob - full[t.token]) < 1e-12);
    assert.equal(topLogprobs(logits, 0).length, 0);
    assert.equal(topLogprobs(logits, 100).length, 6);
  });

  it("topKIndices agrees with a full sort", () => {
    const rng = new Rng(3);
    for (const step of [0, 1]) {
      const logits = randomLogits(rng, 5000, step);
      const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
      for (const k of [1, 2, 17, 400, 5000]) assert.deepEqual(Array.from(topKIndices(logits, k)), order.slice(0, k));
    }
  });
});

describe("option validation", () => {
  const bad: [Partial<SamplingOptions>, RegExp][] = [
    [{ temperature: -0.1 }, /temperature/],
    [{ temperature: Number.NaN }, /temperature/],
    [{ temperature: 1, topP: 0 }, /top_p/],
    [{ temperature: 1, topP: 1.01 }, /top_p/],
    [{ temperature: 1, topK: -1 }, /top_k/],
    [{ temperature: 1, topK: 2.5 }, /top_k/],
    [{ temperature: 1, minP: -0.1 }, /min_p/],
    [{ temperature: 1, minP: 1.5 }, /min_p/],
    [{ temperature: 1, seed: 0.5 }, /seed/],
  ];
  for (const [opts, re] of bad) {
    it(`rejects ${JSON.stringify(opts)}`, () => {
      assert.throws(
        () => new Sampler(opts as SamplingOptions),
        (e: unknown) => e instanceof R1Error && e.code === "usage" && re.test(e.message),
      );
    });
  }

  it("rejects a bad top_logprobs count", () => {
    assert.throws(() => topLogprobs(Float32Array.from([0]), -1), R1Error);
  });
});

// Token sampling: greedy, or llama.cpp's chain top-k -> top-p -> min-p -> temperature -> draw, driven by a
// seeded PRNG so that one seed gives one token sequence on every machine (V8's Math.exp is a software
// port of fdlibm, so the float64 maths below rounds identically everywhere).
//
// Cost per token is O(V) passes over the logits plus a sort of the surviving candidates only: top-k keeps
// a k-sized heap, and top-p without top-k buckets the vocabulary by logit to find which few tokens can be
// in the nucleus before sorting them. The full vocabulary (~150k for R1) is never sorted in the common case.

import { usageError } from "../core/errors.js";

// ---------------------------------------------------------------------------------------------------------
// PRNG: xoshiro128** 1.1 (Blackman & Vigna), 32-bit ops only so it stays fast without BigInt. Its 128-bit
// state is seeded from splitmix64(seed), as the authors recommend: the first output fills s[0] (low half)
// and s[1] (high half), the second fills s[2], s[3]. Test vectors in sampling.test.ts come from the C code.
// ---------------------------------------------------------------------------------------------------------

const MASK64 = (1n << 64n) - 1n;

function splitmix64(state: bigint): { state: bigint; out: bigint } {
  state = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = state;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return { state, out: z ^ (z >> 31n) };
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Seeds the state through splitmix64; any safe integer (negatives wrap to their 64-bit pattern). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw usageError(`seed must be an integer, got ${seed}`);
    const a = splitmix64(BigInt.asUintN(64, BigInt(seed)));
    const b = splitmix64(a.state);
    this.s0 = Number(a.out & 0xffffffffn);
    this.s1 = Number(a.out >> 32n);
    this.s2 = Number(b.out & 0xffffffffn);
    this.s3 = Number(b.out >> 32n);
    // An all-zero state would emit zeros forever; splitmix64 never yields two zero outputs in a row, but
    // the guard costs nothing.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator with an explicit state, for checking against the reference C implementation. */
  static fromState(s: readonly [number, number, number, number]): Rng {
    const r = new Rng(0);
    [r.s0, r.s1, r.s2, r.s3] = s.map((x) => x >>> 0);
    return r;
  }

  /** Next 32-bit output, in [0, 2^32). */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits (27 + 26 from two outputs, as in MT19937's genrand_res53). */
  nextFloat(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

// ---------------------------------------------------------------------------------------------------------
// Logit helpers shared by the sampler and the logprobs API
// ---------------------------------------------------------------------------------------------------------

/**
 * The largest logit, after checking the vector is usable: NaN or +Infinity means the forward pass broke
 * (an internal bug, so a plain Error), and at least one logit must be finite for a softmax to exist.
 */
function maxLogit(logits: Float32Array): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v > m) m = v;
    else if (Number.isNaN(v)) throw new Error(`logits[${i}] is NaN: the forward pass produced a non-number`);
  }
  if (m === Number.POSITIVE_INFINITY) throw new Error("a logit is +Infinity: the forward pass overflowed");
  if (m === Number.NEGATIVE_INFINITY) throw new Error(`no finite logit among ${logits.length}`);
  return m;
}

/** Orders tokens best first: higher logit, then lower id. */
function ranksBefore(logits: Float32Array, a: number, b: number): boolean {
  const la = logits[a];
  const lb = logits[b];
  return la > lb || (la === lb && a < b);
}

/** Sort comparator for ranksBefore. Equal logits (including -Inf - -Inf = NaN, which is falsy) fall to id. */
function byRank(logits: Float32Array): (a: number, b: number) => number {
  return (a, b) => logits[b] - logits[a] || a - b;
}

/**
 * Ids of the k best tokens, best first (ties to the lower id). A k-sized min-heap whose root is the worst
 * kept token: O(V log k) worst case, near O(V) on real logits since most tokens lose to the root at once.
 */
export function topKIndices(logits: Float32Array, k: number): Uint32Array {
  k = Math.min(k, logits.length);
  const heap = new Uint32Array(k);
  // worse(a, b): a would be evicted before b
  const worse = (a: number, b: number) => ranksBefore(logits, b, a);
  let size = 0;
  const siftDown = (pos: number) => {
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= size) return;
      const r = l + 1;
      const c = r < size && worse(heap[r], heap[l]) ? r : l;
      if (!worse(heap[c], heap[pos])) return;
      const t = heap[c];
      heap[c] = heap[pos];
      heap[pos] = t;
      pos = c;
    }
  };
  for (let i = 0; i < logits.length; i++) {
    if (size < k) {
      let pos = size++;
      heap[pos] = i;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (!worse(heap[pos], heap[parent])) break;
        const t = heap[parent];
        heap[parent] = heap[pos];
        heap[pos] = t;
        pos = parent;
      }
    } else if (k > 0 && logits[i] > logits[heap[0]]) {
      // Ids arrive in increasing order, so an equal logit never outranks the root: strict > is the tie rule.
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort(byRank(logits));
}

/** log p for every token: float64, max-subtracted log-sum-exp so large logits cannot overflow. */
export function logSoftmax(logits: Float32Array): Float64Array {
  const m = maxLogit(logits);
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i] - m);
  const lse = m + Math.log(z);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/** The k most likely tokens with their log-probabilities, best first, ties to the lower id. */
export function topLogprobs(logits: Float32Array, k: number): { token: number; logprob: number }[] {
  if (!Number.isInteger(k) || k < 0) throw usageError(`top_logprobs must be a non-negative integer, got ${k}`);
  const m = maxLogit(logits);
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i] - m);
  const lse = m + Math.log(z);
  return Array.from(topKIndices(logits, k), (token) => ({ token, logprob: logits[token] - lse }));
}

// ---------------------------------------------------------------------------------------------------------
// Sampler
// ---------------------------------------------------------------------------------------------------------

export interface SamplingOptions {
  /** 0 (or anything <= 1e-6) decodes greedily; R1's authors recommend 0.6. */
  temperature: number;
  /** Keep the k most likely tokens; 0 or unset disables (llama.cpp's convention). */
  topK?: number;
  /** Nucleus: keep the smallest best-first prefix whose probability reaches topP; 1 or unset disables. */
  topP?: number;
  /** Keep tokens with p >= minP * pmax; 0 or unset disables. */
  minP?: number;
  /** PRNG seed; unset draws one from the OS, readable afterwards as `sampler.seed` to replay a run. */
  seed?: number;
}

const GREEDY_BELOW = 1e-6;

// Top-p bucketing: logits within RANGE of the max fall in BUCKETS equal bins (0.5 nats each, a probability
// ratio of 1.65), everything lower in one tail bin. Tokens below max - 32 carry < 1.3e-14 of the mass each.
const BUCKETS = 64;
const RANGE = 32;

export class Sampler {
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly minP: number;
  readonly seed: number;
  private readonly rng: Rng;
  // Scratch sized to the vocabulary on first use, so decoding allocates nothing per token but the top-k heap.
  private ids = new Uint32Array(0);
  private weights = new Float64Array(0);
  private bucket = new Uint8Array(0);

  constructor(opts: SamplingOptions) {
    const { temperature, topK = 0, topP = 1, minP = 0 } = opts;
    if (typeof temperature !== "number" || !Number.isFinite(temperature) || temperature < 0)
      throw usageError(`temperature must be a finite number >= 0, got ${temperature}`, "use 0 for greedy decoding");
    if (!Number.isInteger(topK) || topK < 0)
      throw usageError(`top_k must be an integer >= 0, got ${topK}`, "use 0 to disable top-k");
    if (typeof topP !== "number" || !(topP > 0 && topP <= 1))
      throw usageError(`top_p must be in (0, 1], got ${topP}`, "use 1 to disable top-p");
    if (typeof minP !== "number" || !(minP >= 0 && minP <= 1))
      throw usageError(`min_p must be in [0, 1], got ${minP}`, "use 0 to disable min-p");
    this.temperature = temperature;
    this.topK = topK;
    this.topP = topP;
    this.minP = minP;
    this.seed = opts.seed ?? crypto.getRandomValues(new Uint32Array(1))[0];
    this.rng = new Rng(this.seed);
  }

  get greedy(): boolean {
    return this.temperature <= GREEDY_BELOW;
  }

  /** Picks the next token id. Greedy is argmax with ties to the lowest id and consumes no randomness. */
  sample(logits: Float32Array): number {
    if (this.greedy) return argmax(logits);
    const { n, m } = this.filter(logits);
    const ids = this.ids;
    const w = this.weights;
    const total = this.temperatureWeights(logits, n, m);
    // Walk in candidate order (best first after top-k/top-p, else id order): deterministic for a seed.
    const r = this.rng.nextFloat() * total;
    let acc = 0;
    let last = ids[0];
    for (let j = 0; j < n; j++) {
      if (w[j] === 0) continue;
      acc += w[j];
      last = ids[j];
      if (r < acc) return last;
    }
    return last; // r landed past the sum by rounding
  }

  /**
   * The distribution `sample` draws from: surviving tokens with their final probabilities (after the
   * filters and temperature), best first. For inspection and tests; it consumes no randomness.
   */
  candidates(logits: Float32Array): { token: number; prob: number }[] {
    if (this.greedy) return [{ token: argmax(logits), prob: 1 }];
    const { n, m } = this.filter(logits);
    const total = this.temperatureWeights(logits, n, m);
    const out: { token: number; prob: number }[] = [];
    for (let j = 0; j < n; j++) out.push({ token: this.ids[j], prob: this.weights[j] / total });
    return out.sort((a, b) => b.prob - a.prob || a.token - b.token);
  }

  /** Fills weights[j] = exp((l - m) / T) for the n candidates in `ids`; returns their sum. */
  private temperatureWeights(logits: Float32Array, n: number, m: number): number {
    const invT = 1 / this.temperature;
    let total = 0;
    for (let j = 0; j < n; j++) {
      const w = Math.exp((logits[this.ids[j]] - m) * invT);
      this.weights[j] = w;
      total += w;
    }
    return total;
  }

  /**
   * Applies top-k, top-p, min-p in llama.cpp's order; leaves the survivors in ids[0..n). Top-p measures
   * probability at temperature 1 over the tokens top-k kept, as llama.cpp does (temperature comes last).
   * `m` is the largest logit, which every filter keeps.
   */
  private filter(logits: Float32Array): { n: number; m: number } {
    const V = logits.length;
    if (this.ids.length !== V) {
      this.ids = new Uint32Array(V);
      this.weights = new Float64Array(V);
      this.bucket = new Uint8Array(V);
    }
    const m = maxLogit(logits);
    const ids = this.ids;
    let n: number;
    let sorted: boolean;
    if (this.topK > 0 && this.topK < V) {
      ids.set(topKIndices(logits, this.topK));
      n = this.topK;
      sorted = true;
    } else {
      for (let i = 0; i < V; i++) ids[i] = i;
      n = V;
      sorted = false;
    }

    if (this.topP < 1) {
      // z is the mass of every candidate so far (all V, or top-k's k); the nucleus is measured against it.
      // weights[id] = exp(l - m), filled by whichever branch runs.
      const w = this.weights;
      let z = 0;
      if (sorted)
        for (let j = 0; j < n; j++) {
          w[ids[j]] = Math.exp(logits[ids[j]] - m);
          z += w[ids[j]];
        }
      else ({ n, z } = this.gatherNucleusCandidates(logits, m));
      // ids[0..n) is now sorted best first: keep the prefix whose mass first reaches topP (at least one).
      const target = this.topP * z;
      let acc = 0;
      for (let j = 0; j < n; j++) {
        acc += w[ids[j]];
        if (acc >= target) {
          n = j + 1;
          break;
        }
      }
      sorted = true;
    }

    if (this.minP > 0) {
      // p >= minP * pmax  <=>  logit >= m + ln(minP): the softmax denominator cancels (llama.cpp's form).
      const threshold = m + Math.log(this.minP);
      let kept = 0;
      for (let j = 0; j < n; j++) {
        const id = ids[j];
        if (logits[id] >= threshold) ids[kept++] = id;
        else if (sorted) break;
      }
      n = kept; // >= 1: the max always passes since ln(minP) <= 0
    }
    return { n, m };
  }

  /**
   * Narrows the whole vocabulary to a sorted set that contains the top-p nucleus: bucket every token by
   * its distance below the max, sum each bucket's mass, take buckets best first until the mass reaches
   * topP, and sort only the tokens in them. The nucleus is a best-first prefix, so it lies inside those
   * buckets. (If float rounding leaves the sorted sum a hair short of the target, the caller keeps all the
   * gathered tokens: a difference of ~1e-16 in where the cut falls.) Returns the count n of gathered ids,
   * now in ids[0..n), and z, the softmax denominator over the whole vocabulary.
   */
  private gatherNucleusCandidates(logits: Float32Array, m: number): { n: number; z: number } {
    const V = logits.length;
    const mass = new Float64Array(BUCKETS + 1);
    const scale = BUCKETS / RANGE;
    let z = 0;
    for (let i = 0; i < V; i++) {
      const d = m - logits[i];
      const w = Math.exp(-d);
      const b = d < RANGE ? Math.floor(d * scale) : BUCKETS;
      this.weights[i] = w;
      this.bucket[i] = b;
      mass[b] += w;
      z += w;
    }
    const target = this.topP * z;
    let last = BUCKETS;
    let acc = 0;
    for (let b = 0; b <= BUCKETS; b++) {
      acc += mass[b];
      if (acc >= target) {
        last = b;
        break;
      }
    }
    let n = 0;
    for (let i = 0; i < V; i++) if (this.bucket[i] <= last) this.ids[n++] = i;
    this.ids.subarray(0, n).sort(byRank(logits));
    return { n, z };
  }
}

/** Index of the largest logit, ties to the lowest id. */
export function argmax(logits: Float32Array): number {
  const m = maxLogit(logits);
  for (let i = 0; ; i++) if (logits[i] === m) return i;
}

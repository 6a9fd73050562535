// Stop strings over streamed text: the API's `stop` parameter. Text passes through as it arrives, except a
// suffix that could still be the start of a stop string, which is held until it completes (generation stops,
// the stop string and anything after it are dropped) or stops matching (the text is released).
//
// Which stop wins: the one that completes first in the text, and among those completing at the same
// character the longest (the earliest start). That is the only rule a stream can honour for every chunking,
// since a stream must stop as soon as any stop string is complete; it differs from "earliest start" only when
// a short stop string lies strictly inside a longer one, e.g. stops ["abcd", "c"] on "abcd" emit "ab".

import { usageError } from "../core/errors.js";

export interface StopResult {
  /** Text safe to emit now: never part of a stop string, never past one. */
  text: string;
  /** True once a stop string has completed; later pushes return "" and true. */
  stopped: boolean;
}

export class StopMatcher {
  private readonly stops: string[];
  private pending = "";
  private done = false;

  constructor(stops: string[]) {
    for (const s of stops) {
      if (typeof s !== "string" || s === "")
        throw usageError(`stop strings must be non-empty strings, got ${JSON.stringify(s)}`);
    }
    this.stops = [...new Set(stops)];
  }

  get stopped(): boolean {
    return this.done;
  }

  push(text: string): StopResult {
    if (this.done) return { text: "", stopped: true };
    const buf = this.pending + text;
    this.pending = "";
    // The held suffix was a proper prefix of some stop string, so any stop that completes now lies in buf.
    let bestEnd = Number.POSITIVE_INFINITY;
    let bestStart = 0;
    for (const s of this.stops) {
      const start = buf.indexOf(s);
      if (start < 0) continue;
      const end = start + s.length;
      if (end < bestEnd || (end === bestEnd && start < bestStart)) {
        bestEnd = end;
        bestStart = start;
      }
    }
    if (bestEnd !== Number.POSITIVE_INFINITY) {
      this.done = true;
      return { text: buf.slice(0, bestStart), stopped: true };
    }
    let hold = 0;
    for (const s of this.stops) hold = Math.max(hold, partialSuffix(buf, s));
    this.pending = buf.slice(buf.length - hold);
    return { text: buf.slice(0, buf.length - hold), stopped: false };
  }

  /** Ends the stream: the held text never became a stop string, so it is released ("" after a stop). */
  flush(): string {
    const held = this.pending;
    this.pending = "";
    return held;
  }
}

/**
 * Length of the longest suffix of `s` that is a proper prefix of `pattern` (0 if none): how much text a
 * stream must hold back because the next chunk could complete the pattern. Shared with reasoning.ts.
 */
export function partialSuffix(s: string, pattern: string): number {
  for (let len = Math.min(s.length, pattern.length - 1); len > 0; len--) {
    if (s.endsWith(pattern.slice(0, len))) return len;
  }
  return 0;
}

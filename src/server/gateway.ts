// The gateway: r1ts as the front door to remote OpenAI-compatible engines (vLLM, SGLang, llama.cpp, other
// r1ts servers), with the same API, keys and metering. Each backend is probed on GET /v1/models at start
// and every healthIntervalMs; a request goes to the healthy backends serving its model, in round-robin
// order. A backend that fails before the first byte reaches the client (connection refused, a 5xx, a body
// cut before its first stream event) is marked down and the request moves to the next one; once bytes have
// been streamed to the client a failure ends that stream with an error event (it cannot be replayed).
// Metering: costs on this server's price tables from the backend's usage; CPU, energy and water are the
// backend's own figures when it reports them (an r1ts backend does), else null.

import type { Context } from "hono";
import { usageError } from "../core/errors.js";
import type { Meter, Metering } from "../metering/meter.js";
import { ApiError, body, toApiError } from "./errors.js";
import type { Usage } from "./protocol.js";
import { sseStream } from "./sse.js";

interface Backend {
  base: string;
  models: Set<string>;
  healthy: boolean;
  lastError?: string;
  requests: number;
  failures: number;
}

export interface GatewayOptions {
  meter: Meter;
  key?: string;
  healthIntervalMs: number;
  /** Connect + first-byte limit for streamed requests and health probes. */
  timeoutMs: number;
  stallMs: number;
}

/** Longest a non-streamed upstream request may take (the backend answers only when done). */
const NON_STREAM_TIMEOUT_MS = 600_000;

export class Gateway {
  private readonly backends: Backend[];
  private rr = 0;
  private timer: NodeJS.Timeout | undefined;
  private inflight = 0;
  private idle: (() => void)[] = [];

  constructor(
    urls: string[],
    private readonly o: GatewayOptions,
  ) {
    this.backends = urls.map((u) => ({
      base: normalize(u),
      models: new Set(),
      healthy: false,
      requests: 0,
      failures: 0,
    }));
  }

  async start(): Promise<void> {
    await this.probeAll();
    this.timer = setInterval(() => void this.probeAll(), this.o.healthIntervalMs);
    this.timer.unref();
  }

  /** Stops health checks; resolves when no forwarded request is in flight. */
  close(): Promise<void> {
    clearInterval(this.timer);
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  models(): string[] {
    const out = new Set<string>();
    for (const b of this.backends) if (b.healthy) for (const m of b.models) out.add(m);
    return [...out];
  }

  serves(model: string): boolean {
    return this.backends.some((b) => b.models.has(model));
  }

  healthyCount(): number {
    return this.backends.filter((b) => b.healthy).length;
  }

  status(): { url: string; healthy: boolean; models: string[]; last_error: string | null }[] {
    return this.backends.map((b) => ({
      url: b.base,
      healthy: b.healthy,
      models: [...b.models],
      last_error: b.lastError ?? null,
    }));
  }

  metricLines(): string[] {
    const lines = [
      "# HELP r1_backend_up Whether a gateway backend passed its last health check.",
      "# TYPE r1_backend_up gauge",
      ...this.backends.map((b) => `r1_backend_up{backend="${b.base}"} ${b.healthy ? 1 : 0}`),
      "# HELP r1_backend_requests_total Requests forwarded to a backend.",
      "# TYPE r1_backend_requests_total counter",
      ...this.backends.map((b) => `r1_backend_requests_total{backend="${b.base}"} ${b.requests}`),
      "# HELP r1_backend_failures_total Forwarded requests that failed before the first byte.",
      "# TYPE r1_backend_failures_total counter",
      ...this.backends.map((b) => `r1_backend_failures_total{backend="${b.base}"} ${b.failures}`),
    ];
    return lines;
  }

  private async probeAll(): Promise<void> {
    await Promise.all(this.backends.map((b) => this.probe(b)));
  }

  private async probe(b: Backend): Promise<void> {
    try {
      const res = await fetch(`${b.base}/v1/models`, {
        headers: this.headers(),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      if (!res.ok) throw new Error(`GET /v1/models answered ${res.status}`);
      const j = (await res.json()) as { data?: { id?: unknown }[] };
      b.models = new Set((j.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === "string"));
      b.healthy = true;
      b.lastError = undefined;
    } catch (e) {
      this.markDown(b, e);
    }
  }

  private markDown(b: Backend, e: unknown): void {
    b.healthy = false;
    b.lastError = e instanceof Error ? e.message : String(e);
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { "content-type": "application/json" };
    if (this.o.key) h.authorization = `Bearer ${this.o.key}`;
    return h;
  }

  /** Healthy backends serving `model`, rotated for round-robin; unhealthy ones last, as a final resort. */
  private candidates(model: string): Backend[] {
    const serving = this.backends.filter((b) => b.models.has(model));
    const n = serving.length;
    const start = n ? this.rr++ % n : 0;
    const rotated = serving.slice(start).concat(serving.slice(0, start));
    return [...rotated.filter((b) => b.healthy), ...rotated.filter((b) => !b.healthy)];
  }

  async forward(c: Context, path: string, json: Record<string, unknown>): Promise<Response> {
    this.inflight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--this.inflight === 0) for (const r of this.idle.splice(0)) r();
    };
    try {
      const res = await this.forwardInner(c, path, json, release);
      return res;
    } catch (e) {
      release();
      throw e;
    }
  }

  private async forwardInner(
    c: Context,
    path: string,
    json: Record<string, unknown>,
    release: () => void,
  ): Promise<Response> {
    const model = String(json.model);
    const stream = json.stream === true;
    const opts = (json.stream_options ?? {}) as { include_usage?: boolean };
    const clientWantsUsage = opts.include_usage === true;
    const upstreamBody = JSON.stringify(stream ? { ...json, stream_options: { ...opts, include_usage: true } } : json);
    let lastError = "no backend serves this model";
    for (const b of this.candidates(model)) {
      if (c.req.raw.signal.aborted) break;
      b.requests++;
      let res: Response;
      try {
        res = await fetch(`${b.base}${path}`, {
          method: "POST",
          headers: this.headers(),
          body: upstreamBody,
          signal: AbortSignal.any([
            c.req.raw.signal,
            AbortSignal.timeout(stream ? this.o.timeoutMs : NON_STREAM_TIMEOUT_MS),
          ]),
        });
      } catch (e) {
        b.failures++;
        this.markDown(b, e);
        lastError = `${b.base}: ${(e as Error).message}`;
        continue;
      }
      if (res.status >= 500) {
        b.failures++;
        lastError = `${b.base}: answered ${res.status}`;
        await res.body?.cancel().catch(() => {});
        continue;
      }
      if (res.status !== 200) {
        // The client's mistake (400, 404, 413, 429...): passed through, not retried.
        const text = await res.text().catch(() => "");
        release();
        return new Response(text, {
          status: res.status,
          headers: pick(res.headers, ["content-type", "retry-after"]),
        });
      }
      if (!stream) {
        let out: Record<string, unknown>;
        try {
          out = (await res.json()) as Record<string, unknown>;
        } catch (e) {
          b.failures++;
          this.markDown(b, e);
          lastError = `${b.base}: ${(e as Error).message}`;
          continue;
        }
        out.metering = this.meter(out.usage as Usage | undefined, out.metering as Partial<Metering> | undefined);
        release();
        return c.json(out);
      }
      // Streamed: wait for the first bytes before committing to this backend.
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let first: { done: boolean; value?: Uint8Array };
      try {
        first = await reader.read();
        if (first.done) throw new Error("the stream ended before its first event");
      } catch (e) {
        b.failures++;
        this.markDown(b, e);
        lastError = `${b.base}: ${(e as Error).message}`;
        continue;
      }
      return this.pipe(reader, first.value as Uint8Array, clientWantsUsage, release);
    }
    throw new ApiError(502, `no backend could serve "${model}": ${lastError}`, "server_error", "backend_unavailable");
  }

  /** Relays upstream SSE events, replacing metering with this server's, and dropping a usage chunk the client did not ask for. */
  private pipe(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    first: Uint8Array,
    wantsUsage: boolean,
    release: () => void,
  ): Response {
    const { response, sink } = sseStream({ stallMs: this.o.stallMs, keepAliveMs: 15_000 });
    sink.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}));
    const dec = new TextDecoder();
    let buf = "";
    let held: Record<string, unknown> | undefined; // the finish chunk, waiting for usage to price it
    const handle = (data: string): boolean => {
      if (data === "[DONE]") {
        if (held) sink.send(held);
        sink.done();
        return false;
      }
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(data);
      } catch {
        return true;
      }
      const choices = ev.choices as { finish_reason?: unknown }[] | undefined;
      if (ev.usage) {
        const metering = this.meter(ev.usage as Usage, ev.metering as Partial<Metering> | undefined);
        if (held) {
          sink.send({ ...held, metering });
          held = undefined;
        }
        if (wantsUsage) sink.send({ ...ev, metering });
        return true;
      }
      if (choices?.some((ch) => ch.finish_reason)) {
        held = ev;
        return true;
      }
      sink.send(ev);
      return true;
    };
    const feed = (bytes: Uint8Array): boolean => {
      buf += dec.decode(bytes, { stream: true });
      for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
        const event = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = event
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart())
          .join("\n");
        if (data && !handle(data)) return false;
      }
      return true;
    };
    void (async () => {
      try {
        if (!feed(first)) return;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (!feed(value)) return;
        }
        // Upstream closed without [DONE]: the backend died mid-stream.
        sink.send(body(new ApiError(502, "the backend closed the stream early", "server_error", "backend_failed")));
        sink.close();
      } catch (e) {
        sink.send(
          body(
            new ApiError(
              502,
              `the backend failed mid-stream: ${(e as Error).message}`,
              "server_error",
              "backend_failed",
            ),
          ),
        );
        sink.close();
      } finally {
        release();
      }
    })().catch((e) => {
      console.error("r1 serve: gateway relay:", toApiError(e).message);
    });
    return response;
  }

  private meter(u: Usage | undefined, remote: Partial<Metering> | undefined): Metering {
    const prompt = u?.prompt_tokens ?? 0;
    const hit = u?.prompt_cache_hit_tokens ?? u?.prompt_tokens_details?.cached_tokens ?? 0;
    return this.o.meter.record(
      {
        cacheHit: hit,
        cacheMiss: prompt - hit,
        completion: u?.completion_tokens ?? 0,
        reasoning: u?.completion_tokens_details?.reasoning_tokens ?? 0,
      },
      undefined,
      remote,
    );
  }
}

function normalize(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw usageError(`--backend ${url}: not a URL`, "give a base URL such as http://10.0.0.2:8000");
  }
  return u.href.replace(/\/+$/, "").replace(/\/v1$/, "");
}

function pick(h: Headers, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = h.get(n);
    if (v) out[n] = v;
  }
  return out;
}

// Starts the HTTP server over a local model and/or gateway backends, and stops it gracefully: stop taking
// connections and requests (503), let every queued and running request finish (bounded by graceMs), then
// close the sockets. Binds 127.0.0.1 unless told otherwise; opens no outbound connection unless backends
// are configured.

import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import type { Engine } from "../generate/engine.js";
import { contextSize } from "../generate/kv_cache.js";
import { DEFAULT_LITRES_PER_KWH, DEFAULT_WATTS_PER_CORE } from "../metering/energy.js";
import { Meter } from "../metering/meter.js";
import { DEFAULT_PRICES, type PriceTable } from "../metering/prices.js";
import { type AppState, createApp } from "./app.js";
import { Gateway } from "./gateway.js";
import type { LocalModel } from "./local.js";
import { Metrics } from "./metrics.js";
import { Scheduler } from "./scheduler.js";

export interface ServeOptions {
  /** The local model; omit for a pure gateway. */
  engine?: Engine;
  /** Name clients use in `model` (default: the engine's name). */
  modelName?: string;
  /** Remote OpenAI-compatible engines (base URLs, with or without /v1). */
  backends?: string[];
  backendKey?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  apiKeys?: string[];
  maxBodyBytes?: number;
  maxTokensCap?: number;
  defaultMaxTokens?: number;
  ctx?: number;
  maxBatch?: number;
  maxQueue?: number;
  prefillChunk?: number;
  prefixCacheBytes?: number;
  prices?: PriceTable[];
  wattsPerCore?: number;
  litresPerKWh?: number;
  powercapRoot?: string;
  /** Drop a streaming client that reads nothing for this long. */
  stallMs?: number;
  keepAliveMs?: number;
  /** Time allowed to receive a whole request (headers and body): slow senders get 408. */
  requestTimeoutMs?: number;
  healthIntervalMs?: number;
  backendTimeoutMs?: number;
}

export const DEFAULTS = {
  host: "127.0.0.1",
  port: 8080,
  maxBodyBytes: 1 << 20,
  maxTokensCap: 32768,
  defaultMaxTokens: 4096,
  maxBatch: 16,
  maxQueue: 256,
  prefillChunk: 512,
  prefixCacheBytes: 256 << 20,
  stallMs: 30_000,
  keepAliveMs: 15_000,
  requestTimeoutMs: 30_000,
  healthIntervalMs: 10_000,
  backendTimeoutMs: 10_000,
} as const;

export interface RunningServer {
  url: string;
  port: number;
  app: Hono;
  state: AppState;
  /** Graceful stop: resolves once in-flight requests are done (or graceMs passed) and sockets are closed. */
  close(graceMs?: number): Promise<void>;
  /** Abrupt stop (tests: a backend that dies): every socket is destroyed at once. */
  kill(): void;
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const meter = new Meter(o.prices ?? DEFAULT_PRICES, {
    wattsPerCore: o.wattsPerCore ?? DEFAULT_WATTS_PER_CORE,
    litresPerKWh: o.litresPerKWh ?? DEFAULT_LITRES_PER_KWH,
    powercapRoot: o.powercapRoot,
  });
  let local: LocalModel | undefined;
  if (o.engine) {
    const ctx = contextSize(o.engine.model, o.ctx);
    const scheduler = new Scheduler(o.engine.model, o.engine.tokenizer, {
      maxBatch: o.maxBatch ?? DEFAULTS.maxBatch,
      maxQueue: o.maxQueue ?? DEFAULTS.maxQueue,
      prefillChunk: o.prefillChunk ?? DEFAULTS.prefillChunk,
      ctx,
      prefixCacheBytes: o.prefixCacheBytes ?? DEFAULTS.prefixCacheBytes,
      meter: meter.energy,
    });
    local = {
      name: o.modelName ?? o.engine.name,
      engine: o.engine,
      scheduler,
      meter,
      created: Math.floor(Date.now() / 1000),
      limits: {
        ctx,
        maxTokensCap: o.maxTokensCap ?? DEFAULTS.maxTokensCap,
        defaultMaxTokens: o.defaultMaxTokens ?? DEFAULTS.defaultMaxTokens,
        stallMs: o.stallMs ?? DEFAULTS.stallMs,
        keepAliveMs: o.keepAliveMs ?? DEFAULTS.keepAliveMs,
      },
    };
  }
  let gateway: Gateway | undefined;
  if (o.backends?.length) {
    gateway = new Gateway(o.backends, {
      meter,
      key: o.backendKey,
      healthIntervalMs: o.healthIntervalMs ?? DEFAULTS.healthIntervalMs,
      timeoutMs: o.backendTimeoutMs ?? DEFAULTS.backendTimeoutMs,
      stallMs: o.stallMs ?? DEFAULTS.stallMs,
    });
    await gateway.start();
  }
  const state: AppState = {
    local,
    gateway,
    meter,
    keys: o.apiKeys ?? [],
    maxBodyBytes: o.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    metrics: new Metrics(),
    draining: false,
  };
  const app = createApp(state);
  const host = o.host ?? DEFAULTS.host;
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: o.port ?? DEFAULTS.port }, () => resolve(s));
    s.once("error", reject);
  });
  const http = server as unknown as import("node:http").Server;
  const reqTimeout = o.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
  http.requestTimeout = reqTimeout;
  http.headersTimeout = Math.min(reqTimeout, 10_000);
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  const close = (graceMs = 60_000): Promise<void> => {
    closing ??= (async () => {
      state.draining = true;
      const closed = new Promise<void>((r) => http.close(() => r()));
      const drained = Promise.all([local?.scheduler.close(), gateway?.close()]);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      // Let the last bytes of finished streams flush before idle sockets are closed.
      await new Promise((r) => setTimeout(r, 50));
      http.closeIdleConnections();
      const hard = setTimeout(() => http.closeAllConnections(), 1000);
      await closed;
      clearTimeout(hard);
    })();
    return closing;
  };
  return {
    url: `http://${shown}:${port}`,
    port,
    app,
    state,
    close,
    kill() {
      state.draining = true;
      void gateway?.close();
      http.close();
      http.closeAllConnections();
    },
  };
}

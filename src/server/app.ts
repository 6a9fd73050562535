// The HTTP surface: routes, API keys, body-size cap, JSON parsing and validation, and routing by model name
// to the local model or a gateway backend. Every failure leaves as an OpenAI-shaped JSON error with the
// right status (400 bad input, 401 key, 404 model, 413 body, 429 queue, 503 shutting down); a bug is a 500
// whose details stay in the server log.
//
// Keys guard /v1/* and /metrics; the chat page (/) and /health stay open so a browser and a load balancer
// can reach them (the page asks for the key and sends it as a Bearer token).

import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import type { Meter } from "../metering/meter.js";
import { chatPage } from "../web/page.js";
import { chatCompletion } from "./chat.js";
import { completion } from "./completions.js";
import { ApiError, badRequest, body, errorResponse } from "./errors.js";
import type { Gateway } from "./gateway.js";
import type { LocalModel } from "./local.js";
import type { Metrics } from "./metrics.js";
import { chatRequestSchema, completionRequestSchema, describeIssues } from "./protocol.js";

export interface AppState {
  local?: LocalModel;
  gateway?: Gateway;
  meter: Meter;
  /** Accepted API keys; empty = no key needed. */
  keys: string[];
  maxBodyBytes: number;
  metrics: Metrics;
  draining: boolean;
}

function keyOk(keys: string[], header: string | undefined): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!m) return false;
  const given = Buffer.from(m[1].trim());
  // Compare against every key in constant time per key, so timing does not reveal a matching prefix.
  let ok = false;
  for (const k of keys) {
    const want = Buffer.from(k);
    if (want.length === given.length && timingSafeEqual(want, given)) ok = true;
  }
  return ok;
}

/** Parses a JSON body against a schema; each failure becomes a 400 that says what and where. */
async function parseBody<S extends z.ZodType>(raw: string, schema: S): Promise<{ value: z.infer<S>; json: unknown }> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw badRequest(`the request body is not valid JSON: ${(e as Error).message}`, null, "invalid_json");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw badRequest("the request body must be a JSON object", null, "invalid_json");
  const r = schema.safeParse(json);
  if (!r.success) {
    const d = describeIssues(r.error);
    throw badRequest(d.message, d.param, "invalid_request");
  }
  return { value: r.data, json };
}

function modelNotFound(s: AppState, model: string): ApiError {
  const names = listModels(s).map((m) => m.id);
  return new ApiError(
    404,
    `the model "${model}" does not exist here; available: ${names.join(", ") || "(none)"}`,
    "invalid_request_error",
    "model_not_found",
    "model",
  );
}

function listModels(s: AppState): { id: string; object: "model"; created: number; owned_by: string }[] {
  const out = s.local
    ? [{ id: s.local.name, object: "model" as const, created: s.local.created, owned_by: "r1ts" }]
    : [];
  for (const name of s.gateway?.models() ?? [])
    if (!out.some((m) => m.id === name)) out.push({ id: name, object: "model", created: 0, owned_by: "gateway" });
  return out;
}

export function createApp(s: AppState): Hono {
  const app = new Hono();

  app.onError((e, c) => {
    // hono's own HTTP errors (the body limit) carry a status; keep it, in our error shape.
    const status = (e as { status?: number }).status;
    if (status === 413) return errorResponse(c, tooLarge(s));
    return errorResponse(c, e);
  });
  app.notFound((c) =>
    c.json(
      body(new ApiError(404, `no route ${c.req.method} ${c.req.path}`, "invalid_request_error", "not_found")),
      404,
    ),
  );

  app.use("*", async (c, next) => {
    const t0 = performance.now();
    await next();
    const route = c.req.routePath === "/*" ? "other" : c.req.routePath;
    s.metrics.observe(route, c.res.status, (performance.now() - t0) / 1000);
  });

  const guard = async (c: Parameters<Parameters<typeof app.use>[1]>[0], next: () => Promise<void>) => {
    if (s.keys.length && !keyOk(s.keys, c.req.header("authorization")))
      return c.json(
        body(
          new ApiError(
            401,
            c.req.header("authorization")
              ? "invalid API key: the Bearer token is not one this server accepts"
              : "missing API key: send the header 'Authorization: Bearer <key>' with a key given to r1 serve (--api-key or R1_API_KEYS)",
            "authentication_error",
            "invalid_api_key",
          ),
        ),
        401,
      );
    await next();
  };
  app.use("/v1/*", guard);
  app.use("/metrics", guard);
  app.use("/v1/*", bodyLimit({ maxSize: s.maxBodyBytes, onError: (c) => errorResponse(c, tooLarge(s)) }));

  app.get("/health", (c) => {
    const ok = !s.draining && (s.local !== undefined || (s.gateway?.healthyCount() ?? 0) > 0);
    return c.json(
      {
        status: s.draining ? "draining" : ok ? "ok" : "no_backend",
        models: listModels(s).map((m) => m.id),
        queue: s.local?.scheduler.queued ?? 0,
        running: s.local?.scheduler.active ?? 0,
        backends: s.gateway?.status(),
      },
      ok ? 200 : 503,
    );
  });

  app.get("/v1/models", (c) => c.json({ object: "list", data: listModels(s) }));

  app.get("/metrics", (c) => {
    const text = s.metrics.render(s.meter, s.local?.scheduler, s.gateway?.metricLines() ?? []);
    return c.text(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });

  app.get("/", (c) => c.html(chatPage()));

  const post = (path: string, schema: typeof chatRequestSchema | typeof completionRequestSchema) =>
    app.post(path, async (c) => {
      if (s.draining) throw new ApiError(503, "the server is shutting down", "server_error", "shutting_down");
      const raw = await c.req.text();
      const { value, json } = await parseBody(raw, schema);
      if (s.local && value.model === s.local.name) {
        return schema === chatRequestSchema
          ? chatCompletion(c, s.local, value as z.infer<typeof chatRequestSchema>)
          : completion(c, s.local, value as z.infer<typeof completionRequestSchema>);
      }
      if (s.gateway?.serves(value.model)) return s.gateway.forward(c, path, json as Record<string, unknown>);
      throw modelNotFound(s, value.model);
    });
  post("/v1/chat/completions", chatRequestSchema);
  post("/v1/completions", completionRequestSchema);
  return app;
}

function tooLarge(s: AppState): ApiError {
  return new ApiError(
    413,
    `the request body is larger than this server accepts (${s.maxBodyBytes} bytes)`,
    "invalid_request_error",
    "request_too_large",
  );
}

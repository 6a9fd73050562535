// Errors as the OpenAI API shapes them: {"error": {message, type, param, code}} with the right status.
// Every handler failure ends here; a stack trace is logged on the server, never sent to the client.

import type { Context } from "hono";
import { R1Error } from "../core/errors.js";
import type { ApiErrorBody } from "./protocol.js";

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 408 | 413 | 429 | 500 | 502 | 503,
    message: string,
    readonly type: string = "invalid_request_error",
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function badRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, message, "invalid_request_error", code, param);
}

export function body(e: ApiError): ApiErrorBody {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
}

/** Maps anything thrown to an ApiError: R1Errors are the user's (400 with their hint), the rest are ours (500). */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof R1Error) {
    const msg = e.hint ? `${e.message} (${e.hint})` : e.message;
    if (e.code === "not_found") return new ApiError(404, msg, "invalid_request_error", "not_found");
    const code = /context/.test(e.message) ? "context_length_exceeded" : e.code;
    return new ApiError(400, msg, "invalid_request_error", code);
  }
  return new ApiError(500, "internal error: the server logged the details", "server_error", "internal_error");
}

export function errorResponse(c: Context, e: unknown): Response {
  const err = toApiError(e);
  if (err.status === 500) console.error("r1 serve: internal error:", e);
  for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  return c.json(body(err), err.status);
}

// Test helpers: a server over a tiny fixture model on a random loopback port, and an SSE reader.

import { type Engine, loadEngine } from "../generate/engine.js";
import { type RunningServer, type ServeOptions, startServer } from "./server.js";

export { FIXTURES } from "../../test/fixtures.js";

import { FIXTURES } from "../../test/fixtures.js";

const engines = new Map<string, Engine>();

export function fixtureEngine(name = "tiny-qwen2"): Engine {
  let e = engines.get(name);
  if (!e) {
    e = loadEngine(`${FIXTURES}/${name}/hf`);
    engines.set(name, e);
  }
  return e;
}

export function startTestServer(o: ServeOptions = {}, fixture = "tiny-qwen2"): Promise<RunningServer> {
  return startServer({ engine: fixtureEngine(fixture), modelName: "tiny", port: 0, host: "127.0.0.1", ...o });
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
}

/** The `data:` payloads of an SSE body, [DONE] included as the string. */
export function sseEvents(text: string): unknown[] {
  return text
    .split("\n\n")
    .map((e) =>
      e
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n"),
    )
    .filter(Boolean)
    .map((d) => (d === "[DONE]" ? d : JSON.parse(d)));
}

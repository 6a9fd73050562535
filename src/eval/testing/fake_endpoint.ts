// A fake OpenAI-compatible endpoint on 127.0.0.1 for tests: either backed by a local engine (chat through
// generate/, completions echo+logprobs through the model's forward pass, offsets in UTF-16 units of the
// prompt) or scripted (canned answers, errors, delays). Counts requests and the most ever in flight, so a
// test can check retries and concurrency.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Engine } from "../../generate/engine.js";
import { logSoftmax } from "../../generate/sampling.js";
import { localBackend } from "../backend.js";

export interface FakeReply {
  status?: number;
  body?: unknown;
  delayMs?: number;
  headers?: Record<string, string>;
  /** Never answer (the client must time out). */
  hang?: boolean;
}

export interface FakeOptions {
  engine?: Engine;
  /** Reasoning placement in engine-backed chat answers. */
  reasoning?: "reasoning_content" | "reasoning" | "inline";
  /** Called per request before the engine; a reply here wins. `n` counts requests to that path from 1. */
  script?: (path: string, body: Record<string, unknown>, n: number) => FakeReply | undefined;
  /** Delay every answer (concurrency timing). */
  delayMs?: number;
  /**
   * Hold each request until this many are in flight at once (or 5 s pass), then answer: proves a client
   * really keeps that many requests open, whatever the machine's load.
   */
  barrier?: number;
}

export interface FakeEndpoint {
  url: string;
  requests: { path: string; body: Record<string, unknown> }[];
  maxInFlight: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const s = Buffer.concat(chunks).toString("utf8");
  return s ? JSON.parse(s) : {};
}

/** completions echo for a prompt: tokens, token_logprobs (first null), text_offset, as OpenAI's legacy API. */
export function echoLogprobs(engine: Engine, prompt: string) {
  const tok = engine.tokenizer;
  const ids = tok.encode(prompt, { addSpecial: true });
  const vocab = engine.model.config.vocabSize;
  const logits = engine.model.forward(ids, engine.model.newCache(ids.length), true);
  const tokens: string[] = [];
  const token_logprobs: (number | null)[] = [];
  const text_offset: number[] = [];
  let prev = "";
  for (let i = 0; i < ids.length; i++) {
    const upto = tok.decode(ids.slice(0, i + 1), { skipSpecial: true });
    text_offset.push(prev.length);
    tokens.push(upto.slice(prev.length));
    prev = upto;
    token_logprobs.push(i === 0 ? null : logSoftmax(logits.subarray((i - 1) * vocab, i * vocab))[ids[i]]);
  }
  return { tokens, token_logprobs, text_offset };
}

export async function startFakeEndpoint(opts: FakeOptions = {}): Promise<FakeEndpoint> {
  const counts = new Map<string, number>();
  const state: FakeEndpoint = { url: "", requests: [], maxInFlight: 0, close: async () => {} };
  let inFlight = 0;
  let release: (() => void) | undefined;
  const gate = opts.barrier
    ? new Promise<void>((r) => {
        release = r;
        setTimeout(r, 5000).unref();
      })
    : undefined;
  const local = opts.engine ? localBackend(opts.engine) : undefined;
  const server: Server = createServer(async (req, res) => {
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    if (opts.barrier && inFlight >= opts.barrier) release?.();
    try {
      const path = (req.url ?? "").replace(/^\/v1/, "");
      const body = req.method === "POST" ? await readBody(req) : {};
      state.requests.push({ path, body });
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const scripted = opts.script?.(path, body, n);
      if (gate) await gate;
      const delay = scripted?.delayMs ?? opts.delayMs ?? 0;
      if (delay) await new Promise((r) => setTimeout(r, delay));
      if (scripted?.hang) return; // the client's timeout closes it
      if (scripted) return send(res, scripted.status ?? 200, scripted.body ?? {}, scripted.headers);
      if (path === "/models") return send(res, 200, { object: "list", data: [{ id: "fake-model", object: "model" }] });
      if (!local || !opts.engine) return send(res, 404, { error: { message: `no handler for ${path}` } });
      if (path === "/chat/completions") {
        const out = await local.chat(body.messages as never, {
          temperature: Number(body.temperature ?? 0.6),
          topP: Number(body.top_p ?? 1),
          maxTokens: Number(body.max_tokens ?? 16),
          seed: Number(body.seed ?? 0),
        });
        const mode = opts.reasoning ?? "reasoning_content";
        const message: Record<string, unknown> = { role: "assistant", content: out.content };
        if (mode === "inline") message.content = out.text;
        else message[mode] = out.reasoning;
        return send(res, 200, {
          id: "chatcmpl-fake",
          object: "chat.completion",
          model: "fake-model",
          choices: [{ index: 0, message, finish_reason: out.finishReason }],
          usage: {
            prompt_tokens: out.promptTokens,
            completion_tokens: out.completionTokens,
            total_tokens: out.promptTokens + out.completionTokens,
            completion_tokens_details: { reasoning_tokens: out.reasoningTokens ?? 0 },
          },
        });
      }
      if (path === "/completions") {
        if (!body.echo || Number(body.max_tokens ?? 16) !== 0)
          return send(res, 400, { error: { message: "fake: only echo with max_tokens 0" } });
        const logprobs = echoLogprobs(opts.engine, String(body.prompt));
        return send(res, 200, {
          object: "text_completion",
          choices: [{ index: 0, text: String(body.prompt), logprobs, finish_reason: "length" }],
          usage: { prompt_tokens: logprobs.tokens.length, completion_tokens: 0 },
        });
      }
      return send(res, 404, { error: { message: `no handler for ${path}` } });
    } catch (e) {
      send(res, 500, { error: { message: String(e) } });
    } finally {
      inFlight--;
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}

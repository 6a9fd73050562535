// The shipped default model through the official `openai` client: it thinks, closes </think> and answers, so
// the server must hand back both parts separately, streamed and not, with consistent usage.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { ROOT } from "../../test/fixtures.js";
import { loadEngine } from "../generate/engine.js";
import type { ChatCompletion } from "./protocol.js";
import { type RunningServer, startServer } from "./server.js";

let srv: RunningServer;
let client: OpenAI;

before(async () => {
  srv = await startServer({ engine: loadEngine(join(ROOT, "models", "r1-tiny")), modelName: "r1-tiny", port: 0 });
  client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 30_000 });
});
after(() => srv.close(2000));

const request = {
  model: "r1-tiny",
  messages: [{ role: "user" as const, content: "What is 12+34?" }],
  max_tokens: 400,
  temperature: 0,
};

test("r1-tiny: reasoning_content and content separated, streamed and not, usage consistent", async () => {
  const r = (await client.chat.completions.create(request)) as unknown as ChatCompletion;
  const msg = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.ok(msg.reasoning_content.length > 0, "the model reasons");
  assert.ok(msg.content.length > 0, "and answers after </think>");
  assert.ok(!msg.content.includes("</think>") && !msg.reasoning_content.includes("</think>"));
  assert.match(msg.content.trim(), /^\d+$/, "the answer is a number (right or wrong)");
  const u = r.usage;
  assert.ok(u.completion_tokens_details.reasoning_tokens > 0);
  assert.ok(u.completion_tokens_details.reasoning_tokens < u.completion_tokens);
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);

  const stream = await client.chat.completions.create({
    ...request,
    stream: true,
    stream_options: { include_usage: true },
  });
  let reasoning = "";
  let content = "";
  let usage: ChatCompletion["usage"] | undefined;
  for await (const chunk of stream) {
    const d = chunk.choices[0]?.delta as { reasoning_content?: string; content?: string } | undefined;
    if (d?.reasoning_content) {
      assert.equal(content, "", "no reasoning after the answer started");
      reasoning += d.reasoning_content;
    }
    if (d?.content) content += d.content;
    if (chunk.usage) usage = chunk.usage as unknown as ChatCompletion["usage"];
  }
  assert.equal(reasoning, msg.reasoning_content);
  assert.equal(content, msg.content);
  assert.deepEqual(usage?.completion_tokens, u.completion_tokens);
});

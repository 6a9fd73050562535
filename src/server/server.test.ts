// The API as the official `openai` client sees it, against a server on loopback over the tiny Qwen2
// fixture (random weights; R1's chat template, so the output starts inside the reasoning).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { logSoftmax } from "../generate/sampling.js";
import type { ChatCompletion, Completion, Usage } from "./protocol.js";
import type { RunningServer } from "./server.js";
import { fixtureEngine, postJson, sseEvents, startTestServer } from "./testkit.js";

let srv: RunningServer;
let client: OpenAI;

before(async () => {
  srv = await startTestServer();
  client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 20_000 });
});
after(() => srv.close(2000));

function checkUsage(u: Usage) {
  assert.equal(u.prompt_tokens, u.prompt_cache_hit_tokens + u.prompt_cache_miss_tokens);
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
  assert.equal(u.prompt_tokens_details.cached_tokens, u.prompt_cache_hit_tokens);
  assert.ok(u.completion_tokens_details.reasoning_tokens <= u.completion_tokens);
}

const messages = [{ role: "user" as const, content: "What is 12+34?" }];

describe("chat completions (openai client)", () => {
  test("non-streamed: reasoning and answer separated, usage consistent, metering present", async () => {
    const r = (await client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 24,
      temperature: 0,
    })) as unknown as ChatCompletion;
    const msg = r.choices[0].message;
    assert.equal(r.object, "chat.completion");
    assert.equal(typeof msg.reasoning_content, "string");
    assert.equal(msg.reasoning, msg.reasoning_content);
    // Random weights rarely emit </think> within 24 tokens: then everything is reasoning.
    assert.ok(msg.reasoning_content.length + msg.content.length > 0);
    assert.equal(r.usage.completion_tokens, 24);
    assert.equal(r.choices[0].finish_reason, "length");
    checkUsage(r.usage);
    if (msg.content === "") assert.equal(r.usage.completion_tokens_details.reasoning_tokens, 24);
    assert.ok(r.metering.cost_usd["deepseek-r1"] > 0);
    assert.ok(r.metering.cost_usd["openai-o1"] > r.metering.cost_usd["deepseek-r1"]);
    assert.ok((r.metering.energy_joules ?? -1) >= 0);
  });

  test("streamed: reasoning deltas before content deltas, same text as non-streamed, usage last", async () => {
    const whole = (await client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 24,
      temperature: 0,
    })) as unknown as ChatCompletion;
    const stream = await client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 24,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let reasoning = "";
    let content = "";
    let sawContent = false;
    let usage: Usage | undefined;
    let finish: string | null = null;
    for await (const ch of stream) {
      const c = ch as unknown as {
        choices: { delta: Record<string, string>; finish_reason: string | null }[];
        usage?: Usage;
      };
      if (c.usage) usage = c.usage;
      for (const choice of c.choices) {
        if (choice.delta.reasoning_content) {
          assert.ok(!sawContent, "a reasoning delta after content");
          reasoning += choice.delta.reasoning_content;
        }
        if (choice.delta.content) {
          sawContent = true;
          content += choice.delta.content;
        }
        finish = choice.finish_reason ?? finish;
      }
    }
    assert.equal(reasoning, whole.choices[0].message.reasoning_content);
    assert.equal(content, whole.choices[0].message.content);
    assert.equal(finish, "length");
    assert.ok(usage);
    checkUsage(usage);
    assert.equal(usage.completion_tokens, 24);
  });

  test("a follow-up turn reuses the first turn's KV cache (prompt_cache_hit_tokens)", async () => {
    const r = (await client.chat.completions.create({
      model: "tiny",
      messages: [...messages, { role: "assistant", content: "46" }, { role: "user", content: "And 1+1?" }],
      max_tokens: 8,
      temperature: 0,
    })) as unknown as ChatCompletion;
    checkUsage(r.usage);
    // The second turn shares the first turn's prompt prefix with the earlier requests: a cache hit.
    assert.ok(r.usage.prompt_cache_hit_tokens > 0, "no prefix-cache hit on a follow-up turn");
  });

  test("logprobs and top_logprobs for chat", async () => {
    const r = (await client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 4,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
    })) as unknown as ChatCompletion;
    const lps = r.choices[0].logprobs?.content ?? [];
    assert.equal(lps.length, 4);
    for (const lp of lps) {
      assert.equal(lp.top_logprobs.length, 3);
      // Greedy: the chosen token is the most likely one.
      assert.equal(lp.logprob, lp.top_logprobs[0].logprob);
      assert.ok(Array.isArray(lp.bytes));
    }
  });

  test("stop strings and seeds", async () => {
    const a = (await client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 16,
      temperature: 0.8,
      seed: 7,
    })) as unknown as ChatCompletion;
    const b = (await client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 16,
      temperature: 0.8,
      seed: 7,
    })) as unknown as ChatCompletion;
    assert.equal(a.choices[0].message.reasoning_content, b.choices[0].message.reasoning_content);
    const text = a.choices[0].message.reasoning_content;
    const cut = text.slice(3, 5);
    if (cut.trim().length === 2 && !cut.includes("\uFFFD")) {
      const c = (await client.chat.completions.create({
        model: "tiny",
        messages,
        max_tokens: 16,
        temperature: 0.8,
        seed: 7,
        stop: [cut],
      })) as unknown as ChatCompletion;
      assert.equal(c.choices[0].finish_reason, "stop");
      assert.ok(!c.choices[0].message.reasoning_content.includes(cut));
    }
  });
});

describe("completions", () => {
  test("echo + logprobs with max_tokens 0 scores the prompt (lm-eval-harness loglikelihood)", async () => {
    const engine = fixtureEngine();
    const ids = engine.tokenizer.encode("The cat sat on the mat", { addSpecial: true });
    const r = (await (
      await postJson(`${srv.url}/v1/completions`, {
        model: "tiny",
        prompt: ids,
        max_tokens: 0,
        echo: true,
        logprobs: 1,
        temperature: 0,
      })
    ).json()) as Completion;
    const lp = r.choices[0].logprobs;
    assert.ok(lp);
    assert.equal(lp.tokens.length, ids.length);
    assert.equal(lp.token_logprobs[0], null);
    assert.equal(lp.top_logprobs[0], null);
    // Oracle: one forward pass with all logits.
    const cache = engine.model.newCache(ids.length);
    const logits = engine.model.forward(ids, cache, true);
    const V = engine.model.config.vocabSize;
    for (let i = 1; i < ids.length; i++) {
      const want = logSoftmax(logits.subarray((i - 1) * V, i * V))[ids[i]];
      assert.ok(Math.abs((lp.token_logprobs[i] as number) - want) < 1e-4, `token ${i}`);
      const top = lp.top_logprobs[i] as Record<string, number>;
      assert.equal(Object.keys(top).length, 1);
      assert.ok(Math.max(...Object.values(top)) >= (lp.token_logprobs[i] as number));
    }
    assert.equal(r.usage.completion_tokens, 0);
    assert.equal(r.choices[0].text, engine.tokenizer.decode(ids));
  });

  test("a batch of prompts gives one choice each; max_tokens 1 with echo appends the generated token", async () => {
    const r = (await (
      await postJson(`${srv.url}/v1/completions`, {
        model: "tiny",
        prompt: ["Hello", "Goodbye world"],
        max_tokens: 1,
        echo: true,
        logprobs: 2,
        temperature: 0,
      })
    ).json()) as Completion;
    assert.equal(r.choices.length, 2);
    for (const ch of r.choices) {
      const lp = ch.logprobs!;
      assert.equal(lp.tokens.length, lp.token_logprobs.length);
      assert.equal(Object.keys(lp.top_logprobs.at(-1) as object).length, 2);
    }
    assert.equal(r.usage.completion_tokens, 2);
  });

  test("streamed completions end with [DONE]", async () => {
    const res = await postJson(`${srv.url}/v1/completions`, {
      model: "tiny",
      prompt: "Hi",
      max_tokens: 5,
      stream: true,
    });
    const ev = sseEvents(await res.text());
    assert.equal(ev.at(-1), "[DONE]");
    const text = ev
      .slice(0, -1)
      .flatMap((e) => (e as Completion).choices)
      .map((c) => c.text)
      .join("");
    assert.ok(text.length > 0);
  });
});

describe("models, health, metrics, page", () => {
  test("GET /v1/models lists the model", async () => {
    const list = await client.models.list();
    assert.deepEqual(
      list.data.map((m) => m.id),
      ["tiny"],
    );
  });
  test("GET /health", async () => {
    const r = await fetch(`${srv.url}/health`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { status: string }).status, "ok");
  });
  test("GET /metrics is Prometheus text with costs per table", async () => {
    const t = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(t, /^# HELP r1_http_requests_total/m);
    assert.match(t, /^r1_cost_usd_total\{table="deepseek-r1"\} [0-9.e-]+$/m);
    assert.match(t, /^r1_completion_tokens_total [1-9]/m);
    assert.match(t, /^r1_energy_joules_total /m);
  });
  test("GET / serves the chat page", async () => {
    const r = await fetch(`${srv.url}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /text\/html/);
  });
});

// The gateway in front of two r1ts backends on loopback; one is killed mid-run. No request that had not
// started streaming may fail: those are retried on the surviving backend.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ChatCompletion } from "./protocol.js";
import { type RunningServer, startServer } from "./server.js";
import { postJson, sseEvents, startTestServer } from "./testkit.js";

const KEY = "sk-gw";
const auth = { authorization: `Bearer ${KEY}` };
let a: RunningServer;
let b: RunningServer;
let gw: RunningServer;

before(async () => {
  a = await startTestServer();
  b = await startTestServer();
  gw = await startServer({ backends: [a.url, b.url], port: 0, apiKeys: [KEY], healthIntervalMs: 200 });
});
after(async () => {
  await gw.close(2000);
  await Promise.all([a.close(2000), b.close(2000)]);
});

const body = (stream: boolean, max = 24) => ({
  model: "tiny",
  messages: [{ role: "user", content: "What is 12+34?" }],
  max_tokens: max,
  temperature: 0,
  stream,
});

describe("gateway", () => {
  test("lists the backends' models, needs the key, and meters with the backend's energy figures", async () => {
    const m = (await (await fetch(`${gw.url}/v1/models`, { headers: auth })).json()) as { data: { id: string }[] };
    assert.deepEqual(
      m.data.map((x) => x.id),
      ["tiny"],
    );
    assert.equal((await postJson(`${gw.url}/v1/chat/completions`, body(false))).status, 401);
    const r = await postJson(`${gw.url}/v1/chat/completions`, body(false, 8), auth);
    assert.equal(r.status, 200);
    const j = (await r.json()) as ChatCompletion;
    assert.equal(j.usage.completion_tokens, 8);
    assert.equal(j.metering.energy_method, "remote");
    assert.ok((j.metering.energy_joules ?? -1) >= 0);
    assert.ok(j.metering.cost_usd["deepseek-r1"] > 0);
    const s = await postJson(
      `${gw.url}/v1/chat/completions`,
      { ...body(true, 8), stream_options: { include_usage: true } },
      auth,
    );
    const ev = sseEvents(await s.text());
    assert.equal(ev.at(-1), "[DONE]");
    const usage = ev.find((e) => e !== "[DONE]" && (e as { usage?: unknown }).usage) as ChatCompletion | undefined;
    assert.equal(usage?.usage.completion_tokens, 8);
    assert.equal(usage?.metering.energy_method, "remote");
    const unknown = await postJson(`${gw.url}/v1/chat/completions`, { ...body(false), model: "nope" }, auth);
    assert.equal(unknown.status, 404);
  });

  test("a backend killed mid-run: every request that had not started streaming succeeds", async () => {
    type Outcome = { ok: boolean; started: boolean; stream: boolean };
    const one = async (stream: boolean): Promise<Outcome> => {
      let started = false;
      try {
        const r = await postJson(`${gw.url}/v1/chat/completions`, body(stream), auth);
        if (r.status !== 200) return { ok: false, started, stream };
        if (!stream) {
          const j = (await r.json()) as ChatCompletion;
          return { ok: j.usage.completion_tokens === 24, started, stream };
        }
        const reader = (r.body as ReadableStream<Uint8Array>).getReader();
        let text = "";
        const dec = new TextDecoder();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          started = true;
          text += dec.decode(value, { stream: true });
        }
        return { ok: text.includes("data: [DONE]") && !text.includes('"error"'), started, stream };
      } catch {
        return { ok: false, started, stream };
      }
    };
    const outcomes: Promise<Outcome>[] = [];
    for (let wave = 0; wave < 3; wave++) {
      for (let i = 0; i < 6; i++) outcomes.push(one(i % 2 === 0));
      if (wave === 0) {
        await new Promise((r) => setTimeout(r, 40));
        a.kill();
      }
      await new Promise((r) => setTimeout(r, 40));
    }
    const res = await Promise.all(outcomes);
    const failedUnstarted = res.filter((o) => !o.ok && !o.started);
    assert.deepEqual(failedUnstarted, [], "requests failed before streaming started");
    assert.ok(res.filter((o) => o.ok).length >= 12, `${res.filter((o) => o.ok).length} of 18 succeeded`);
    // The kill hit requests in flight: some were retried, or were cut while streaming.
    const retried = gw.state.gateway!.status()[0];
    const cut = res.filter((o) => !o.ok).length;
    assert.ok(
      cut > 0 || /ECONNREFUSED|fetch failed|terminated|socket/i.test(retried.last_error ?? ""),
      "the kill hit nothing",
    );
    // The health check notices the dead backend.
    for (let i = 0; i < 50 && gw.state.gateway!.healthyCount() !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(gw.state.gateway!.healthyCount(), 1);
    const h = (await (await fetch(`${gw.url}/health`)).json()) as { backends: { healthy: boolean }[] };
    assert.deepEqual(
      h.backends.map((x) => x.healthy),
      [false, true],
    );
    const m = await (await fetch(`${gw.url}/metrics`, { headers: auth })).text();
    assert.match(m, /^r1_backend_up\{backend="http:\/\/127\.0\.0\.1:\d+"\} 0$/m);
  });
});

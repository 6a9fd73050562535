// Continuous batching must not change anyone's answer: several simultaneous streaming requests at
// temperature 0, decoded together in one batch, each equal the same prompt run alone through
// generate() (one sequence, model.forward, no batching, no prefix cache).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { chatPrompt } from "../generate/engine.js";
import { generate } from "../generate/generate.js";
import { splitReasoning } from "../generate/reasoning.js";
import type { RunningServer } from "./server.js";
import { fixtureEngine, postJson, sseEvents, startTestServer } from "./testkit.js";

const PROMPTS = ["What is 12+34?", "Name a colour.", "hi", "Tell me a story about a dog and a cat.", "2+2"];
const MAX = 12;

async function alone(fixture: string, content: string): Promise<{ reasoning: string; content: string }> {
  const e = fixtureEngine(fixture);
  const p = chatPrompt(e, [{ role: "user", content }]);
  const gen = generate(e.model, e.tokenizer, p.ids, { maxTokens: MAX, temperature: 0 });
  for (;;) {
    const s = await gen.next();
    if (s.done) return splitReasoning(s.value.text, p.startsInReasoning);
  }
}

/** Streams one chat request; returns the reasoning and content deltas, each joined. */
async function streamed(url: string, content: string): Promise<{ reasoning: string; content: string }> {
  const res = await postJson(`${url}/v1/chat/completions`, {
    model: "tiny",
    messages: [{ role: "user", content }],
    max_tokens: MAX,
    temperature: 0,
    stream: true,
  });
  assert.equal(res.status, 200);
  let reasoning = "";
  let text = "";
  for (const ev of sseEvents(await res.text())) {
    if (ev === "[DONE]") continue;
    const d = (ev as { choices: { delta: { reasoning_content?: string; content?: string } }[] }).choices[0]?.delta;
    reasoning += d?.reasoning_content ?? "";
    text += d?.content ?? "";
  }
  return { reasoning, content: text };
}

for (const fixture of ["tiny-qwen2", "tiny-deepseek-v3"]) {
  describe(`concurrent streams on ${fixture}`, () => {
    let srv: RunningServer;
    before(async () => {
      srv = await startTestServer({ maxBatch: 4, prefillChunk: 16 }, fixture);
    });
    after(() => srv.close(2000));

    test("each of 5 simultaneous streams (4 in the batch, 1 queued) equals its prompt run alone", async () => {
      const want = await Promise.all(PROMPTS.map((p) => alone(fixture, p)));
      // Twice: the second round runs with the first round's sequences in the prefix cache.
      for (let round = 0; round < 2; round++) {
        const got = await Promise.all(PROMPTS.map((p) => streamed(srv.url, p)));
        got.forEach((g, i) => {
          assert.deepEqual(g, want[i], `prompt ${i} round ${round}`);
        });
      }
      assert.ok(srv.state.local!.scheduler.stats.maxBatchSeen > 1, "requests were never batched together");
    });
  });
}

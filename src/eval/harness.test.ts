// The harness end to end on the tiny fixtures (random weights: accuracy is ~0, but storage, resumption,
// failure handling and the log-likelihood maths are all real), and against the fake endpoint.

import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FIXTURES } from "../../test/fixtures.js";
import { type Engine, loadEngine } from "../generate/engine.js";
import { type Backend, localBackend } from "./backend.js";
import { endpointBackend } from "./client.js";
import { runEval } from "./harness.js";
import { type RunConfig, readRecords } from "./store.js";
import { getTask } from "./tasks/index.js";
import type { Item } from "./tasks/task.js";
import { type FakeEndpoint, startFakeEndpoint } from "./testing/fake_endpoint.js";

const FIXTURE = join(FIXTURES, "tiny-qwen2", "hf");
const fixtureUrl = new URL("../../../../shared/fixtures/tiny-qwen2/hf/config.json", import.meta.url);
const haveFixture = existsSync(fixtureUrl) || existsSync(join(FIXTURE, "config.json"));
const fixturePath = existsSync(fixtureUrl) ? new URL(".", fixtureUrl).pathname : FIXTURE;

const tmp = () => mkdtempSync(join(tmpdir(), "r1-eval-"));
const quiet = null;

function config(task: string, backend: Backend, over: Partial<RunConfig> = {}): RunConfig {
  return {
    task,
    backend: backend.name,
    backendKind: backend.kind,
    mode: "generate",
    samples: 1,
    temperature: 0.6,
    topP: 0.95,
    maxTokens: 6,
    seed: 1,
    limit: null,
    langs: null,
    ...over,
  };
}

// Hand-made multiple-choice items, so the log-likelihood tests need no data files.
const MC_ITEMS: Item[] = [
  [
    "Roof shingle removal: A man is sitting on a roof. he",
    [
      "is using wrap to wrap a pair of skis.",
      "is ripping level tiles off.",
      "is holding a rubik's cube.",
      "starts pulling up roofing on a roof.",
    ],
    3,
  ],
  [
    "Clean and jerk: A lady walks to a barbell. She bends down and grabs the pole. the lady",
    [
      "swings and lands in her arms.",
      "pulls the barbell forward.",
      "pulls a rope attached to the barbell.",
      "stands and lifts the weight over her head.",
    ],
    3,
  ],
  [
    "The following are multiple choice questions (with answers) about anatomy.\n\nWhich organ stores urine?\nA. Bladder\nB. Kidney\nC. Ureter\nD. Urethra\nAnswer:",
    ["A", "B", "C", "D"],
    0,
  ],
].map(([context, endings, gold], i) => ({
  id: String(i),
  messages: [{ role: "user", content: String(context) }],
  mc: {
    context: context as string,
    choices: (endings as string[]).map((e) => ` ${e}`),
    gold: gold as number,
    lengths: (endings as string[]).map((e) => e.length),
  },
  gold: "ABCD"[gold as number],
  groups: {},
}));

describe("harness on the local engine", { skip: !haveFixture }, () => {
  let engine: Engine;
  before(() => {
    engine = loadEngine(fixturePath);
  });

  it("arith: stores every answer, writes results, resumes asking nothing twice", async () => {
    const task = getTask("arith");
    const backend = localBackend(engine);
    const items = await task.load({ data: {}, seed: 1, limit: 3 });
    const cfg = config("arith", backend, { samples: 2, limit: 3 });
    const out = tmp();
    const r1 = await runEval({ task, items, backend, config: cfg, outDir: out, concurrency: 1, progress: quiet });
    const recs = readRecords(join(out, "responses.jsonl"));
    assert.equal(recs.length, 6);
    assert.equal(r1.n_items, 3);
    assert.equal(r1.metric, "pass@1");
    assert.ok(recs[0].request.rendered_prompt?.includes("What is"));
    assert.ok(existsSync(join(out, "results.json")));
    // Same run again: nothing left to ask.
    let asked = 0;
    const counting: Backend = {
      ...backend,
      chat: (...a) => {
        asked++;
        return backend.chat(...a);
      },
    };
    await runEval({ task, items, backend: counting, config: cfg, outDir: out, concurrency: 1, progress: quiet });
    assert.equal(asked, 0);
    assert.equal(readRecords(join(out, "responses.jsonl")).length, 6);
    // Different flags into the same folder: refused with the field named.
    await assert.rejects(
      runEval({ task, items, backend, config: { ...cfg, seed: 2 }, outDir: out, concurrency: 1, progress: quiet }),
      /holds a run with seed 1, not 2/,
    );
  });

  it("a killed run (abort + torn last line) continues where it stopped, same answers as an unbroken run", async () => {
    const task = getTask("arith");
    const backend = localBackend(engine);
    const items = await task.load({ data: {}, seed: 3, limit: 4 });
    const cfg = config("arith", backend, { seed: 3, limit: 4 });
    const whole = tmp();
    await runEval({ task, items, backend, config: cfg, outDir: whole, concurrency: 1, progress: quiet });
    const broken = tmp();
    const ac = new AbortController();
    let n = 0;
    const stopping: Backend = {
      ...backend,
      chat: async (...a) => {
        if (++n === 3) ac.abort();
        return backend.chat(...a);
      },
    };
    await runEval({
      task,
      items,
      backend: stopping,
      config: cfg,
      outDir: broken,
      concurrency: 1,
      progress: quiet,
      signal: ac.signal,
    });
    const partial = readRecords(join(broken, "responses.jsonl")).length;
    assert.ok(partial >= 2 && partial < 4, `stored ${partial}`);
    appendFileSync(join(broken, "responses.jsonl"), '{"key":"torn'); // killed mid-write
    let asked = 0;
    const counting: Backend = {
      ...backend,
      chat: (...a) => {
        asked++;
        return backend.chat(...a);
      },
    };
    await runEval({ task, items, backend: counting, config: cfg, outDir: broken, concurrency: 1, progress: quiet });
    assert.equal(asked, 4 - partial);
    const texts = (d: string) =>
      Object.fromEntries(readRecords(join(d, "responses.jsonl")).map((r) => [r.key, r.response?.text]));
    assert.deepEqual(texts(broken), texts(whole));
  });

  it("log-likelihood: identical from the engine and through completions echo+logprobs", async () => {
    const fake = await startFakeEndpoint({ engine });
    try {
      const local = localBackend(engine);
      const remote = endpointBackend({ url: fake.url, retries: 0 });
      for (const it of MC_ITEMS) {
        const a = await local.loglik(it.mc!.context, it.mc!.choices);
        const b = await remote.loglik(it.mc!.context, it.mc!.choices);
        assert.deepEqual(b.sums, a.sums);
        assert.deepEqual(b.counts, a.counts);
      }
      // And through the whole harness: acc and acc_norm agree.
      const task = getTask("hellaswag");
      const rl = await runEval({
        task,
        items: MC_ITEMS,
        backend: local,
        config: config("hellaswag", local, { mode: "loglik" }),
        outDir: tmp(),
        concurrency: 1,
        progress: quiet,
      });
      const rr = await runEval({
        task,
        items: MC_ITEMS,
        backend: remote,
        config: config("hellaswag", remote, { mode: "loglik" }),
        outDir: tmp(),
        concurrency: 4,
        progress: quiet,
      });
      assert.equal(rr.score, rl.score);
      assert.deepEqual(rr.acc_norm, rl.acc_norm);
      assert.equal(rl.metric, "acc");
    } finally {
      await fake.close();
    }
  });

  it("gsm8k-shaped run through an engine-backed endpoint, reasoning in each supported field", async () => {
    for (const reasoning of ["reasoning_content", "reasoning", "inline"] as const) {
      const fake = await startFakeEndpoint({ engine, reasoning });
      try {
        const backend = endpointBackend({ url: fake.url, retries: 0 });
        const task = getTask("arith");
        const items = await task.load({ data: {}, seed: 5, limit: 2 });
        const r = await runEval({
          task,
          items,
          backend,
          config: config("arith", backend, { seed: 5, limit: 2 }),
          outDir: tmp(),
          concurrency: 2,
          progress: quiet,
        });
        assert.equal(r.n_failed, 0);
        assert.equal(r.n_units, 2);
        assert.equal(fake.requests.find((q) => q.path === "/chat/completions")?.body.model, "fake-model");
      } finally {
        await fake.close();
      }
    }
  });
});

describe("endpoint failures become failed items, never a crashed run", () => {
  let fake: FakeEndpoint;
  const ok = (content: string) => ({
    body: {
      choices: [{ message: { content }, finish_reason: "stop" }],
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    },
  });
  before(async () => {
    const seen = new Map<string, number>();
    fake = await startFakeEndpoint({
      script: (path, body) => {
        if (path === "/models") return { body: { data: [{ id: "m" }] } };
        const q = String((body.messages as { content: string }[])[0].content);
        const n = (seen.get(q) ?? 0) + 1;
        seen.set(q, n);
        if (q.includes("1+1"))
          return n <= 2 ? { status: 503, body: { error: { message: "busy" } } } : ok("</think>\n\n2");
        if (q.includes("2+2")) return { status: 500, body: { error: { message: "always down" } } };
        if (q.includes("3+3")) return { status: 400, body: { error: { message: "bad request" } } };
        if (q.includes("4+4")) return { hang: true };
        if (q.includes("5+5")) return { status: 429, headers: { "retry-after": "0" }, body: {} };
        return ok("<think>\nfine\n</think>\n\n\\boxed{12}");
      },
    });
  });
  after(() => fake.close());

  it("retries with backoff, then records the failure with its attempts", async () => {
    const items: Item[] = ["1+1", "2+2", "3+3", "4+4", "6+6"].map((q, i) => ({
      id: String(i),
      messages: [{ role: "user", content: `What is ${q}?` }],
      gold: String(Number(q[0]) * 2),
      groups: { op: "+" },
    }));
    const backend = endpointBackend({ url: fake.url, retries: 2, backoffMs: 5, timeoutMs: 300 });
    const out = tmp();
    const r = await runEval({
      task: getTask("arith"),
      items,
      backend,
      config: config("arith", backend),
      outDir: out,
      concurrency: 5,
      progress: quiet,
    });
    const recs = Object.fromEntries(readRecords(join(out, "responses.jsonl")).map((x) => [x.id, x]));
    assert.equal(recs["0"].verdict?.correct, true);
    assert.equal(recs["0"].attempts, 3);
    assert.match(recs["1"].error ?? "", /HTTP 500: always down/);
    assert.equal(recs["1"].attempts, 3);
    assert.match(recs["2"].error ?? "", /HTTP 400: bad request/);
    assert.equal(recs["2"].attempts, 1, "a 400 is not retried");
    assert.match(recs["3"].error ?? "", /timed out after 300 ms/);
    assert.equal(recs["4"].verdict?.correct, true);
    assert.equal(r.n_failed, 3);
    assert.equal(r.n_items, 2);
    assert.equal(r.score, 1);
    // --retry-failed asks only the failures again.
    const before = fake.requests.length;
    await runEval({
      task: getTask("arith"),
      items,
      backend,
      config: config("arith", backend),
      outDir: out,
      concurrency: 5,
      progress: quiet,
      retryFailed: true,
    });
    const asked = fake.requests
      .slice(before)
      .filter((q) => q.path === "/chat/completions")
      .map((q) => String((q.body.messages as { content: string }[])[0].content));
    assert.ok(!asked.some((q) => q.includes("6+6") || q.includes("1+1")));
  });
});

describe("concurrency against an endpoint", () => {
  it("--concurrency 16 keeps 16 requests in flight; wall time against sequential is reported", async () => {
    const script = (path: string) =>
      path === "/chat/completions"
        ? {
            body: {
              choices: [{ message: { content: "\\boxed{1}" }, finish_reason: "stop" }],
              usage: { prompt_tokens: 3, completion_tokens: 2 },
            },
          }
        : undefined;
    const seqFake = await startFakeEndpoint({ delayMs: 100, script });
    const fake = await startFakeEndpoint({ delayMs: 100, barrier: 16, script });
    try {
      const items: Item[] = Array.from({ length: 16 }, (_, i) => ({
        id: String(i),
        messages: [{ role: "user", content: `q${i}` }],
        gold: "1",
        groups: {},
      }));
      const timed = async (url: string, c: number) => {
        const backend = endpointBackend({ url, model: "m", retries: 0 });
        const t = Date.now();
        await runEval({
          task: getTask("gsm8k"),
          items,
          backend,
          config: config("gsm8k", backend),
          outDir: tmp(),
          concurrency: c,
          progress: quiet,
        });
        return Date.now() - t;
      };
      const seq = await timed(seqFake.url, 1);
      const par = await timed(fake.url, 16);
      assert.equal(seqFake.maxInFlight, 1);
      assert.equal(fake.maxInFlight, 16);
      // A measurement, not a pass/fail speed goal (the machine may be loaded).
      process.stderr.write(`# concurrency: 16 requests at 100 ms: sequential ${seq} ms, --concurrency 16 ${par} ms\n`);
    } finally {
      await fake.close();
      await seqFake.close();
    }
  });
});

describe("stored files", () => {
  it("responses.jsonl lines are self-contained JSON", () => {
    const d = tmp();
    appendFileSync(join(d, "responses.jsonl"), '{"key":"a#0","id":"a"}\n{"bad\n{"key":"b#0"}\n');
    assert.throws(() => readRecords(join(d, "responses.jsonl")), /responses\.jsonl:2: not a JSON record/);
    assert.ok(readFileSync(join(d, "responses.jsonl"), "utf8").length > 0);
  });
});

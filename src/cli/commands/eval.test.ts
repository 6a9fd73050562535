// r1 eval through its Command object (the lead registers it in cli/index.ts): a local run, rescoring,
// report and compare, and the clear errors for bad input.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { R1Error } from "../../core/errors.js";
import { startFakeEndpoint } from "../../eval/testing/fake_endpoint.js";
import { loadEngine } from "../../generate/engine.js";
import { command } from "./eval.js";

const fixture = new URL("../../../../../shared/fixtures/tiny-qwen2/hf/", import.meta.url).pathname;
const haveFixture = existsSync(join(fixture, "config.json"));
const tmp = () => mkdtempSync(join(tmpdir(), "r1-eval-cli-"));

/** Runs the command with stdout captured (stderr left alone: the progress bar). */
async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = "";
  process.stdout.write = ((s: string) => {
    out += s;
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await command.run(argv);
    return { code, out };
  } finally {
    process.stdout.write = write;
  }
}

const usageErr = (re: RegExp) => (e: unknown) => e instanceof R1Error && re.test(`${e.message} ${e.hint ?? ""}`);

describe("r1 eval", () => {
  it("bad input gives clear messages", async () => {
    await assert.rejects(
      command.run(["--task", "nope", "--model", "x", "--out", tmp()]),
      usageErr(/unknown task "nope".*gsm8k/),
    );
    await assert.rejects(
      command.run(["--task", "arith", "--out", tmp()]),
      usageErr(/exactly one of --model PATH or --endpoint URL/),
    );
    await assert.rejects(command.run(["--task", "arith", "--model", "x"]), usageErr(/--out is required/));
    await assert.rejects(
      command.run([
        "--task",
        "arith",
        "--endpoint",
        "http://127.0.0.1:9",
        "--api-key-env",
        "R1_TEST_SURELY_UNSET",
        "--out",
        tmp(),
      ]),
      usageErr(/R1_TEST_SURELY_UNSET.*not set/),
    );
  });

  it("score rescores stored answers without a model", async () => {
    const d = tmp();
    const file = join(d, "answers.jsonl");
    writeFileSync(
      file,
      [
        { id: "1/0", response: "<think>\nadding\n</think>\n\nwrong: 5" },
        { id: "1/1", response: "x" },
      ]
        .map((o) => JSON.stringify(o))
        .join("\n"),
    );
    const { out } = await capture(["score", "--task", "arith", "--responses", file, "--json"]);
    const res = JSON.parse(out);
    assert.equal(res.n, 2);
    assert.equal(res.items[0].id, "1/0");
    assert.equal(res.items[0].extracted, "5");
    // Now answer correctly using the gold the tool reports.
    writeFileSync(file, JSON.stringify({ id: "1/0", response: `</think>\n\n\\boxed{${res.items[0].gold}}` }));
    const again = JSON.parse((await capture(["score", "--task", "arith", "--responses", file, "--json"])).out);
    assert.equal(again.correct, 1);
    writeFileSync(file, '{"id": "1/0"}\n');
    await assert.rejects(
      command.run(["score", "--task", "arith", "--responses", file]),
      usageErr(/answers\.jsonl:1: response/),
    );
    writeFileSync(file, '{"id": "zzz", "response": "1"}\n');
    await assert.rejects(
      command.run(["score", "--task", "arith", "--responses", file]),
      usageErr(/id "zzz" is not an item of arith/),
    );
  });

  it("score on gsm8k from the shared data", {
    skip: !existsSync(new URL("../../../../../shared/data/gsm8k/test.jsonl", import.meta.url)),
  }, async () => {
    const file = join(tmp(), "a.jsonl");
    writeFileSync(
      file,
      `${JSON.stringify({ id: "0", response: "<think>\n16-3-4=9\n</think>\n\nShe makes $18. \\boxed{18}" })}\n`,
    );
    const res = JSON.parse((await capture(["score", "--task", "gsm8k", "--responses", file, "--json"])).out);
    assert.equal(res.correct, 1);
  });

  it("runs arith on a local model, then report and compare work from the folder", { skip: !haveFixture }, async () => {
    const a = tmp();
    const b = tmp();
    const args = ["--task", "arith", "--model", fixture, "--limit", "2", "--max-tokens", "4", "--seed", "3"];
    const r = await capture([...args, "--out", a]);
    assert.equal(r.code, 0);
    assert.match(r.out, /arith pass@1: .* over 2 items/);
    const res = JSON.parse(readFileSync(join(a, "results.json"), "utf8"));
    assert.equal(res.n_units, 2);
    assert.ok(res.cost_usd["openai-o1"] > res.cost_usd["deepseek-r1"]);
    assert.match(res.energy.method, /CPU time/);
    const html = readFileSync(join(a, "report.html"), "utf8");
    assert.match(html, /<svg/);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/);
    await capture([...args, "--samples", "2", "--out", b]);
    assert.equal((await capture(["report", a])).code, 0);
    const cmpHtml = join(tmp(), "cmp.html");
    const cmp = await capture(["compare", a, b, "--html", cmpHtml, "--json"]);
    assert.equal(JSON.parse(cmp.out).length, 2);
    assert.match(readFileSync(cmpHtml, "utf8"), /r1 eval compare/);
  });

  const shared = existsSync(new URL("../../../../../shared/data/gsm8k/test.jsonl", import.meta.url));
  it("gsm8k --limit 20 through an endpoint (engine-backed fake), concurrency 4", {
    skip: !haveFixture || !shared,
  }, async () => {
    const fake = await startFakeEndpoint({ engine: loadEngine(fixture) });
    try {
      const out = tmp();
      const r = await capture([
        "--task",
        "gsm8k",
        "--endpoint",
        fake.url,
        "--limit",
        "20",
        "--max-tokens",
        "4",
        "--concurrency",
        "4",
        "--out",
        out,
      ]);
      assert.equal(r.code, 0);
      const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
      assert.equal(res.n_items, 20);
      assert.equal(res.n_failed, 0);
      assert.equal(res.config.backendKind, "endpoint");
      assert.ok(fake.maxInFlight >= 2);
    } finally {
      await fake.close();
    }
  });

  it("mmlu through a chat-only endpoint falls back to letter answers", { skip: !shared }, async () => {
    const fake = await startFakeEndpoint({
      script: (path) =>
        path === "/chat/completions"
          ? {
              body: {
                choices: [{ message: { reasoning_content: "hmm", content: "Answer: A" }, finish_reason: "stop" }],
                usage: { prompt_tokens: 50, completion_tokens: 9 },
              },
            }
          : path === "/completions"
            ? { status: 404, body: { error: { message: "no completions here" } } }
            : undefined,
    });
    try {
      const out = tmp();
      const r = await capture([
        "--task",
        "mmlu",
        "--endpoint",
        fake.url,
        "--limit",
        "1",
        "--retries",
        "0",
        "--out",
        out,
      ]);
      assert.equal(r.code, 0);
      const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
      assert.equal(res.mode, "letter");
      assert.equal(res.n_items, 57);
      assert.ok(res.by.category.STEM.n > 0);
    } finally {
      await fake.close();
    }
  });
});

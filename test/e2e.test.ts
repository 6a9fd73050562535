// End to end, as a user runs it: the default model on `arith` locally; GSM8K through the project's own server
// as an endpoint (r1 serve in one process, r1 eval --endpoint in another); and multiple-choice log-likelihood
// scores that must be identical locally and through the server. GSM8K prompts outgrow r1-tiny's 512-token
// context (its vocabulary is nearly character-level), so the served model is the tiny Qwen2 fixture (4096
// positions): these tests are about the pipeline, not the score.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { FIXTURES, ROOT, tempDir } from "./fixtures.js";

const CLI = join(ROOT, "dist/src/cli/index.js");
const QWEN = join(FIXTURES, "tiny-qwen2", "hf");
const env = { ...process.env, HF_HUB_OFFLINE: "1" };

function results(dir: string) {
  return JSON.parse(readFileSync(join(dir, "results.json"), "utf8"));
}

function evalAsync(...args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, "eval", ...args], { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr?.on("data", (d) => {
      err += d.toString();
    });
    p.on("close", (code) => resolve({ code, err }));
  });
}

let server: ChildProcess | undefined;
let serverUrl: Promise<string> | undefined;
after(() => server?.kill("SIGTERM"));

/** One r1 serve process for the endpoint tests, started on first use; resolves to its base URL. */
function serve(): Promise<string> {
  serverUrl ??= new Promise<string>((resolve, reject) => {
    server = spawn(process.execPath, [CLI, "serve", "--model", QWEN, "--port", "0"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${buf}`)), 30_000);
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    server.stdout?.on("data", onData);
    server.stderr?.on("data", onData);
  });
  return serverUrl;
}

test("eval arith on the default model, locally", () => {
  const out = tempDir("r1-e2e-");
  const r = spawnSync(
    process.execPath,
    [CLI, "eval", "--task", "arith", "--model", "r1-tiny", "--limit", "10", "--temperature", "0", "--out", out],
    { encoding: "utf8", env },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(results(out).task, "arith");
  const lines = readFileSync(join(out, "responses.jsonl"), "utf8").trim().split("\n");
  assert.equal(lines.length, 10);
});

test("eval gsm8k --limit 20 through r1 serve", async () => {
  const url = await serve();
  const out = tempDir("r1-e2e-");
  const r = await evalAsync(
    ...[
      "--task",
      "gsm8k",
      "--endpoint",
      url,
      "--limit",
      "20",
      "--max-tokens",
      "64",
      "--concurrency",
      "4",
      "--out",
      out,
    ],
  );
  assert.equal(r.code, 0, r.err);
  const lines = readFileSync(join(out, "responses.jsonl"), "utf8").trim().split("\n");
  assert.equal(lines.length, 20);
  const failed = lines.map((l) => JSON.parse(l)).filter((x) => x.error || x.failed);
  assert.equal(failed.length, 0, JSON.stringify(failed[0]));
});

for (const task of ["hellaswag", "mmlu"]) {
  test(`${task}: log-likelihood scores identical from the local engine and through r1 serve`, async () => {
    const url = await serve();
    const local = tempDir("r1-e2e-");
    const remote = tempDir("r1-e2e-");
    const limit = task === "mmlu" ? "1" : "4";
    const a = await evalAsync("--task", task, "--model", QWEN, "--limit", limit, "--kernels", "ref", "--out", local);
    assert.equal(a.code, 0, a.err);
    const b = await evalAsync("--task", task, "--endpoint", url, "--mc", "loglik", "--limit", limit, "--out", remote);
    assert.equal(b.code, 0, b.err);
    const ra = results(local);
    const rb = results(remote);
    assert.ok(ra.n_items > 0);
    assert.equal(rb.n_failed, 0);
    assert.equal(rb.score, ra.score);
    assert.deepEqual(rb.acc_norm, ra.acc_norm);
  });
}

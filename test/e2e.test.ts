// End to end, as a user runs it: the default model on `arith` locally, and GSM8K through the project's own
// server as an endpoint (r1 serve in one process, r1 eval --endpoint in another). GSM8K prompts outgrow
// r1-tiny's 512-token context (its vocabulary is nearly character-level), so the served model there is the
// tiny Qwen2 fixture (4096 positions): the test is about the pipeline, not the score.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FIXTURES, ROOT } from "./fixtures.js";

const CLI = join(ROOT, "dist/src/cli/index.js");
const env = { ...process.env, HF_HUB_OFFLINE: "1" };

function r1(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env });
}

function results(dir: string) {
  return JSON.parse(readFileSync(join(dir, "results.json"), "utf8"));
}

test("eval arith on the default model, locally", () => {
  const out = mkdtempSync(join(tmpdir(), "r1-e2e-"));
  const r = r1("eval", "--task", "arith", "--model", "r1-tiny", "--limit", "10", "--temperature", "0", "--out", out);
  assert.equal(r.status, 0, r.stderr);
  const res = results(out);
  assert.equal(JSON.stringify(res).includes("arith"), true);
  const lines = readFileSync(join(out, "responses.jsonl"), "utf8").trim().split("\n");
  assert.equal(lines.length, 10);
});

let server: ChildProcess | undefined;
after(() => server?.kill("SIGTERM"));

test("eval gsm8k --limit 20 through r1 serve", async () => {
  server = spawn(process.execPath, [CLI, "serve", "--model", join(FIXTURES, "tiny-qwen2", "hf"), "--port", "0"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
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
    server?.stdout?.on("data", onData);
    server?.stderr?.on("data", onData);
  });
  const out = mkdtempSync(join(tmpdir(), "r1-e2e-"));
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const p = spawn(
      process.execPath,
      [
        CLI,
        "eval",
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
      { env, stdio: ["ignore", "ignore", "pipe"] },
    );
    let err = "";
    p.stderr?.on("data", (d) => {
      err += d.toString();
    });
    p.on("close", (code) => resolve({ code, err }));
  });
  assert.equal(r.code, 0, r.err);
  const lines = readFileSync(join(out, "responses.jsonl"), "utf8").trim().split("\n");
  assert.equal(lines.length, 20);
  const failed = lines.map((l) => JSON.parse(l)).filter((x) => x.error || x.failed);
  assert.equal(failed.length, 0, JSON.stringify(failed[0]));
});

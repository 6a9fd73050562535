// Nothing phones home: load and generate (HF folder and GGUF) in a process where every outbound connection,
// DNS lookup and fetch is refused and recorded; the run must succeed and the record stay empty.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { FIXTURES, ROOT, tempDir } from "./fixtures.js";

const CLI = join(ROOT, "dist/src/cli/index.js");
const GUARD = pathToFileURL(join(ROOT, "dist/test/support/deny_network.js")).href;

for (const model of [join(FIXTURES, "tiny-deepseek-v3", "hf"), join(FIXTURES, "tiny-qwen2", "model-f32.gguf")]) {
  test(`no network: load and generate ${model.split("/").slice(-2).join("/")}`, () => {
    const netLog = join(tempDir("r1-net-"), "attempts.log");
    // The guard itself must work: a deliberate fetch in a guarded process is recorded.
    const probe = spawnSync(
      process.execPath,
      ["--import", GUARD, "-e", "fetch('http://127.0.0.1:9/').catch(() => {})"],
      {
        env: { ...process.env, R1_NET_LOG: netLog },
      },
    );
    assert.equal(probe.status, 0);
    assert.match(readFileSync(netLog, "utf8"), /fetch/);

    const quiet = join(tempDir("r1-net-"), "attempts.log");
    const r = spawnSync(
      process.execPath,
      ["--import", GUARD, CLI, "run", "--model", model, "--prompt", "Say hi", "--max-tokens", "8", "--json"],
      { encoding: "utf8", env: { ...process.env, R1_NET_LOG: quiet } },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).tokens.length > 0, true);
    assert.equal(existsSync(quiet) ? readFileSync(quiet, "utf8") : "", "", "no connection attempted");
  });
}

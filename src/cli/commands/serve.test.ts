// r1 serve as a process: prints its URL, serves, and on SIGTERM finishes the request in flight, then exits 0.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { FIXTURES } from "../../../test/fixtures.js";

const serveJs = fileURLToPath(new URL("./serve.js", import.meta.url));

test("r1 serve: SIGTERM drains the in-flight stream and exits 0", async () => {
  const script = `import(${JSON.stringify(serveJs)}).then(async (m) => { process.exitCode = await m.command.run(process.argv.slice(1)); })`;
  const child = spawn(
    process.execPath,
    ["-e", script, "--", "--model", join(FIXTURES, "tiny-qwen2", "hf"), "--served-model-name", "tiny", "--port", "0"],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, R1_API_KEYS: "k1,k2" } },
  );
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    let err = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (d) => {
        err += d;
        const m = /r1 serve: (http:\/\/\S+)/.exec(err);
        if (m) resolve(m[1]);
      });
      child.once("exit", () => reject(new Error(`exited early: ${err}`)));
    });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer k2" },
      body: JSON.stringify({
        model: "tiny",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 40,
        stream: true,
      }),
    });
    assert.equal(res.status, 200);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    const text = await res.text();
    assert.match(text, /data: \[DONE\]/);
    assert.equal(await exited, 0);
    assert.match(err, /SIGTERM: no new requests/);
  } finally {
    clearTimeout(killer);
    child.kill("SIGKILL");
  }
});

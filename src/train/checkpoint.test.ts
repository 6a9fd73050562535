// Kill-and-resume: a child process trains a tiny recipe and is SIGKILLed mid-run; resuming from its last
// checkpoint must reproduce the uninterrupted run bit for bit (weights, biases, loss history), since the data of
// each step depends only on (seed, step) and the checkpoint holds weights, Adam moments and routing biases.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { defaultRecipe, type Recipe, train } from "./trainer.js";

function tinyRecipe(out: string): Recipe {
  const r = defaultRecipe({ name: "resume-test", out, steps: 14, batch: 2, ckptEvery: 3, logEvery: 1, warmup: 2 });
  r.model = {
    ...r.model,
    hidden: 16,
    nLayers: 2,
    qLoraRank: 8,
    kvLoraRank: 8,
    qkNopeDim: 4,
    qkRopeDim: 4,
    vHeadDim: 4,
    intermediate: 16,
    moeIntermediate: 8,
  };
  r.task = { minDigits: 1, maxDigits: 1, noThink: 0 };
  return r;
}

test("a SIGKILLed run resumes from its last checkpoint and matches an uninterrupted run", async () => {
  const dir = mkdtempSync(join(tmpdir(), "r1ts-resume-"));
  try {
    const quiet = () => {};
    const ref = train(tinyRecipe(join(dir, "ref")), { log: quiet });

    const killed = tinyRecipe(join(dir, "killed"));
    const url = new URL("./trainer.js", import.meta.url).href;
    const script = `import { train } from ${JSON.stringify(url)}; train(${JSON.stringify(killed)}, { log: () => {} });`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "ignore" });
    const logPath = join(killed.out, "log.jsonl");
    // Kill once the child has logged step 8 (checkpoints at 3 and 6, so 7 and 8 are lost work).
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const lines = existsSync(logPath) ? readFileSync(logPath, "utf8").trim().split("\n") : [];
        if (lines.length >= 8) {
          clearInterval(timer);
          child.kill("SIGKILL");
          resolve();
        }
      }, 5);
      child.on("exit", () => {
        clearInterval(timer);
        resolve();
      });
      child.on("error", reject);
    });
    await new Promise((r) => child.once("exit", r).once("close", r) && setTimeout(r, 200));
    const logged = readFileSync(logPath, "utf8").trim().split("\n").length;
    assert.ok(logged < 14, `the child should have been killed before finishing (logged ${logged} steps)`);

    const resumed = train(killed, { log: quiet });
    assert.deepEqual(resumed.history, ref.history);
    for (const [n, p] of ref.model.params) assert.deepEqual(resumed.model.p(n).data, p.data, n);
    ref.model.moe.forEach((st, l) => {
      if (st) assert.deepEqual(resumed.model.moe[l]!.bias, st.bias);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The four cache verbs end to end, in process, configured only through the environment as a user would.

import assert from "node:assert/strict";
import { realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { qwen2Folder } from "../../hub/testing/payloads.js";
import { type TestBed, testBed } from "../../hub/testing/setup.js";
import { command as list } from "./list.js";
import { command as pull } from "./pull.js";
import { command as rm } from "./rm.js";
import { command as verify } from "./verify.js";

let bed: TestBed;
let saved: NodeJS.ProcessEnv;
before(async () => {
  bed = await testBed();
  saved = { ...process.env };
  process.env.HF_HUB_CACHE = bed.cacheDir;
  process.env.HF_ENDPOINT = bed.hub.url;
  process.env.HF_TOKEN = "";
  delete process.env.HF_HUB_OFFLINE;
  bed.hub.addRepo("cli-org/tiny", qwen2Folder());
});
after(async () => {
  process.env = saved;
  await bed.done();
});

async function capture(f: () => Promise<number>): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = "";
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await f(), out };
  } finally {
    process.stdout.write = write;
  }
}

test("r1 pull, list, verify, rm", async () => {
  const p = await capture(() => pull.run(["cli-org/tiny", "--quiet"]));
  assert.equal(p.code, 0);
  const path = p.out.trim();
  assert.ok(path.startsWith(join(bed.cacheDir, "models--cli-org--tiny", "snapshots")));

  const l = await capture(() => list.run(["--json"]));
  const entries = JSON.parse(l.out);
  assert.equal(entries.length, 1);
  assert.equal(entries[0].ref, "cli-org/tiny");
  assert.equal(entries[0].verified, true);
  const t = await capture(() => list.run([]));
  assert.match(t.out, /REF\s+COMMIT\s+SIZE\s+FORMAT\s+ARCH\s+QUANT\s+VERIFIED/);
  assert.match(t.out, /cli-org\/tiny .* safetensors\s+Qwen2ForCausalLM\s+BF16\s+yes/);

  const v = await capture(() => verify.run(["cli-org/tiny", "--quiet"]));
  assert.equal(v.code, 0);
  assert.match(v.out, /^ok: cli-org\/tiny@/);

  const blob = realpathSync(join(path, "tokenizer.json"));
  writeFileSync(blob, "{}");
  const bad = await capture(() => verify.run(["cli-org/tiny", "--quiet"]));
  assert.equal(bad.code, 1);
  assert.match(bad.out, /bad: .*tokenizer\.json: git blob sha1 is/);

  const r = await capture(() => rm.run(["cli-org/tiny"]));
  assert.match(r.out, /removed all revisions of cli-org\/tiny/);
  const empty = await capture(() => list.run([]));
  assert.match(empty.out, /no models in/);
  await assert.rejects(pull.run([]), /exactly one model reference/);
});

// verify and rm on a pulled cache: a flipped byte on disk is reported by file; removal keeps shared blobs.

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { R1Error } from "../core/errors.js";
import { listCached } from "./inventory.js";
import { removeModel, verifyModel } from "./manage.js";
import { pull } from "./pull.js";
import { qwen2Folder, qwen2Gguf } from "./testing/payloads.js";
import { type TestBed, testBed } from "./testing/setup.js";

let bed: TestBed;
before(async () => {
  bed = await testBed();
});
after(async () => {
  await bed.done();
});

test("verify passes on a fresh pull and names the first bad file after a byte flips on disk", async () => {
  bed.hub.addRepo("test-org/v", qwen2Folder());
  const r = await pull("test-org/v", bed.opts);
  const ok = await verifyModel("test-org/v", bed.opts);
  assert.equal(ok.bad, undefined);
  assert.equal(ok.checked.length, readdirSync(r.path).length);

  const blob = realpathSync(join(r.path, "model.safetensors"));
  const bytes = readFileSync(blob);
  bytes[777] = bytes[777]! ^ 1;
  writeFileSync(blob, bytes);
  const bad = await verifyModel("test-org/v", bed.opts);
  assert.equal(bad.bad?.file, "model.safetensors");
  assert.match(bad.bad!.problem, /sha256 is [0-9a-f]{64}, expected [0-9a-f]{64}/);
  const entry = (await listCached(bed.opts)).find((e) => e.repo === "test-org/v");
  assert.equal(entry?.verified, false, "a failed verify clears the record");

  await assert.rejects(verifyModel("test-org/never", bed.opts), (e) => e instanceof R1Error && e.code === "not_found");
  await assert.rejects(verifyModel("r1-tiny", bed.opts), (e) => e instanceof R1Error && e.code === "usage");
});

test("rm removes one GGUF, one revision, or a whole repo", async () => {
  const gguf = qwen2Gguf();
  const q8 = Buffer.concat([gguf.subarray(0, 4096), Buffer.alloc(2000, 3)]);
  const files = { ...qwen2Folder(), "tiny-Q4_K_M.gguf": gguf, "tiny-Q8_0.gguf": q8 };
  const repo = bed.hub.addRepo("test-org/rm", files);
  await pull("test-org/rm", bed.opts);
  await pull("test-org/rm:Q4_K_M", bed.opts);
  await pull("test-org/rm:Q8_0", bed.opts);
  const refs = async () => (await listCached(bed.opts)).filter((e) => e.repo === "test-org/rm").map((e) => e.ref);
  assert.deepEqual(await refs(), ["test-org/rm", "test-org/rm:Q4_K_M", "test-org/rm:Q8_0"]);

  const one = await removeModel("test-org/rm:Q8_0", bed.opts);
  assert.equal(one.scope, "file");
  assert.equal(one.freedBytes, q8.length);
  assert.deepEqual(await refs(), ["test-org/rm", "test-org/rm:Q4_K_M"]);

  const rev = await removeModel(`test-org/rm@${repo.commit}`, bed.opts);
  assert.equal(rev.scope, "revision");
  assert.ok(!existsSync(join(bed.cacheDir, "models--test-org--rm")), "last revision gone: repo folder gone");

  await pull("test-org/rm", bed.opts);
  const all = await removeModel("test-org/rm", bed.opts);
  assert.equal(all.scope, "repo");
  assert.ok(all.freedBytes > 0);
  assert.deepEqual(await refs(), []);
  await assert.rejects(removeModel("test-org/rm", bed.opts), /not in the cache/);
});

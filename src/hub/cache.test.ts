// The cache without the network: HF_HUB_OFFLINE, a second process reading what this one wrote, and a cache laid
// out by hand the way Python's huggingface_hub writes it. "No connection" is proven by the fake Hub's counter.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { R1Error } from "../core/errors.js";
import { hubSettings } from "./env.js";
import { hubFetch } from "./http.js";
import { listCached } from "./inventory.js";
import { verifyModel } from "./manage.js";
import { pull } from "./pull.js";
import { resolveModel } from "./resolve.js";
import { gitBlobSha1 } from "./testing/fake_hub.js";
import { qwen2Folder, qwen2Gguf } from "./testing/payloads.js";
import { type TestBed, testBed } from "./testing/setup.js";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

let bed: TestBed;
let commit = "";
before(async () => {
  bed = await testBed();
  commit = bed.hub.addRepo("test-org/present", qwen2Folder()).commit;
  bed.hub.addRepo("test-org/gguf", { "tiny-Q4_K_M.gguf": qwen2Gguf() });
  await pull("test-org/present", bed.opts);
  await pull("test-org/gguf:Q4_K_M", bed.opts);
});
after(async () => {
  await bed.done();
});

function withEnv<T>(vars: Record<string, string | undefined>, f: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return f().finally(() => {
    process.env = saved;
  });
}

test("HF_HUB_OFFLINE=1: a present model resolves, a missing one fails clearly, and no connection is made", async () => {
  const { offline: _o, onEvent: _e, ...opts } = bed.opts; // offline comes from the environment here
  await withEnv({ HF_HUB_OFFLINE: "1" }, async () => {
    bed.hub.resetCounters();
    const p = await resolveModel("test-org/present", { ...opts, pull: true });
    assert.equal(p, join(bed.cacheDir, "models--test-org--present", "snapshots", commit));
    const g = await resolveModel("test-org/gguf:Q4_K_M", { ...opts, pull: true });
    assert.ok(g.endsWith("tiny-Q4_K_M.gguf"));
    const pulled = await pull("test-org/present", { ...opts, onEvent: () => {} });
    assert.ok(pulled.fromCache && pulled.receivedBytes === 0);

    await assert.rejects(resolveModel("test-org/missing", { ...opts, pull: true }), (e) => {
      assert.ok(e instanceof R1Error && e.code === "not_found");
      assert.match(e.message, /test-org\/missing is not in the cache .*HF_HUB_OFFLINE=1/);
      assert.match(e.hint ?? "", /HF_HUB_OFFLINE/);
      return true;
    });
    await assert.rejects(pull("test-org/gguf:Q8_0", { ...opts, onEvent: () => {} }), /HF_HUB_OFFLINE=1/);
    // The guard sits in the one function that opens connections.
    await assert.rejects(hubFetch(hubSettings(opts), `${bed.hub.url}/api/models/x/y`, { what: "x" }), /offline mode/);
    assert.equal(bed.hub.connections, 0);
    assert.equal(bed.hub.requests.length, 0);
  });
});

test("a cached model resolves without the network even when online; --no-pull fails with the fix", async () => {
  bed.hub.resetCounters();
  const p = await resolveModel("test-org/present", { ...bed.opts, pull: true });
  assert.ok(p.endsWith(commit));
  assert.equal(bed.hub.connections, 0);
  await assert.rejects(
    resolveModel("test-org/absent", { ...bed.opts, pull: false }),
    (e) => e instanceof R1Error && /r1 pull test-org\/absent/.test(e.hint ?? ""),
  );
  assert.equal(bed.hub.connections, 0);
});

test("a second process reads the cache this one wrote, with no network", async () => {
  const script = `
    const hub = await import(${JSON.stringify(pathToFileURL(join(here, "index.js")).href)});
    const path = await hub.resolveModel("test-org/present", { pull: true });
    const gguf = await hub.resolveModel("test-org/gguf:Q4_K_M", { pull: false });
    const list = await hub.listCached();
    const v = await hub.verifyModel("test-org/present");
    console.log(JSON.stringify({ path, gguf, refs: list.map((e) => [e.ref, e.verified]), ok: !v.bad, n: v.checked.length }));
  `;
  bed.hub.resetCounters();
  const env: NodeJS.ProcessEnv = { ...process.env, HF_HUB_CACHE: bed.cacheDir, HF_ENDPOINT: bed.hub.url, HF_TOKEN: "" };
  delete env.HF_HUB_OFFLINE;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { env });
  const out = JSON.parse(stdout);
  assert.equal(out.path, join(bed.cacheDir, "models--test-org--present", "snapshots", commit));
  assert.ok(out.gguf.endsWith("tiny-Q4_K_M.gguf"));
  assert.deepEqual(out.refs, [
    ["test-org/gguf:Q4_K_M", true],
    ["test-org/present", true],
  ]);
  assert.equal(out.ok, true);
  assert.equal(out.n, Object.keys(qwen2Folder()).length);
  assert.equal(bed.hub.connections, 0, "the child never connected");
});

/** Write a repo the way Python's huggingface_hub does (snapshot_download of some files). */
function layOutLikePython(cacheDir: string, repo: string, files: Record<string, Buffer>, sha: string) {
  const root = join(cacheDir, `models--${repo.replace("/", "--")}`);
  mkdirSync(join(root, "blobs"), { recursive: true });
  mkdirSync(join(root, "refs"), { recursive: true });
  writeFileSync(join(root, "refs", "main"), sha); // no newline, as Python writes it
  for (const [name, content] of Object.entries(files)) {
    const blob = name.endsWith(".safetensors")
      ? createHash("sha256").update(content).digest("hex")
      : gitBlobSha1(content);
    writeFileSync(join(root, "blobs", blob), content);
    const link = join(root, "snapshots", sha, name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(`../../blobs/${blob}`, link);
  }
  // Python's lock folder and "known missing" markers sit beside the repos; they must not confuse anything.
  mkdirSync(join(cacheDir, ".locks", `models--${repo.replace("/", "--")}`), { recursive: true });
  mkdirSync(join(root, ".no_exist", sha), { recursive: true });
  writeFileSync(join(root, ".no_exist", sha, "added_tokens.json"), "");
}

test("a cache laid out by hand in the Python tools' layout is found, listed and verified", async () => {
  const sha = "0123456789abcdef0123456789abcdef01234567";
  const files = qwen2Folder();
  layOutLikePython(bed.cacheDir, "py-org/handmade", files, sha);
  bed.hub.resetCounters();
  const p = await resolveModel("py-org/handmade", { ...bed.opts, pull: false });
  assert.equal(p, join(bed.cacheDir, "models--py-org--handmade", "snapshots", sha));
  const listed = (await listCached(bed.opts)).find((e) => e.repo === "py-org/handmade");
  assert.ok(listed?.complete && !listed.verified, "listed, not yet verified by r1ts");
  assert.equal(listed.architecture, "Qwen2ForCausalLM");
  const v = await verifyModel("py-org/handmade", bed.opts);
  assert.equal(v.bad, undefined);
  assert.equal(v.checked.length, Object.keys(files).length);
  const afterV = (await listCached(bed.opts)).find((e) => e.repo === "py-org/handmade");
  assert.ok(afterV?.verified);
  assert.equal(bed.hub.connections, 0);

  // A partial Python snapshot (config only) is not "cached": resolve without pull says how to complete it.
  layOutLikePython(bed.cacheDir, "py-org/partial", { "config.json": files["config.json"]! }, sha);
  await assert.rejects(resolveModel("py-org/partial", { ...bed.opts, pull: false }), /not in the cache/);
});

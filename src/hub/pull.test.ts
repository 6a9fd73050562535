// pull against the fake Hub: full pulls, resume after a dropped connection, hash refusal, gated repos, a full
// disk, and the allow-list that keeps pickles and code out.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { R1Error } from "../core/errors.js";
import { listCached } from "./inventory.js";
import { pull } from "./pull.js";
import { gitBlobSha1 } from "./testing/fake_hub.js";
import { deepseekFolder, qwen2Folder, qwen2Gguf } from "./testing/payloads.js";
import { type TestBed, testBed } from "./testing/setup.js";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Resolves once `path` holds `size` bytes: the client has written everything the server sent before the drop. */
async function sizeReached(path: string, size: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (existsSync(path) && statSync(path).size >= size) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${path} never reached ${size} bytes`);
}

let bed: TestBed;
before(async () => {
  bed = await testBed();
});
after(async () => {
  await bed.done();
});

const repoDir = (repo: string) => join(bed.cacheDir, `models--${repo.replace("/", "--")}`);
const cdnGets = (file: Buffer) =>
  bed.hub.requests.filter((r) => r.method === "GET" && r.path.startsWith(`/cdn/${sha256(file)}`));

test("a full pull lays out blobs, snapshot links and refs exactly as huggingface_hub does", async () => {
  const files = qwen2Folder();
  const repo = bed.hub.addRepo("test-org/tiny-qwen2", {
    ...files,
    "README.md": Buffer.from("# tiny"),
    ".gitattributes": Buffer.from("*.safetensors filter=lfs"),
  });
  bed.events.length = 0;
  const r = await pull("test-org/tiny-qwen2", bed.opts);
  const snap = join(repoDir("test-org/tiny-qwen2"), "snapshots", repo.commit);
  assert.equal(r.path, snap);
  assert.equal(r.commit, repo.commit);
  assert.equal(readFileSync(join(repoDir("test-org/tiny-qwen2"), "refs", "main"), "utf8"), repo.commit);
  for (const [name, content] of Object.entries(files)) {
    const expectBlob = name.endsWith(".safetensors") ? sha256(content) : gitBlobSha1(content);
    assert.equal(readlinkSync(join(snap, name)), `../../blobs/${expectBlob}`, name);
    assert.ok(readFileSync(join(snap, name)).equals(content), name);
  }
  assert.deepEqual(readdirSync(snap).sort(), Object.keys(files).sort());
  assert.ok(!bed.hub.requests.some((q) => /README|gitattributes/.test(q.path)), "only runtime files are fetched");
  const plan = bed.events.find((e) => e.type === "plan");
  const total = Object.values(files).reduce((n, b) => n + b.length, 0);
  assert.ok(plan?.type === "plan" && plan.totalBytes === total && plan.downloadBytes === total);
  assert.equal(r.receivedBytes, total);
  const [entry] = (await listCached(bed.opts)).filter((e) => e.repo === "test-org/tiny-qwen2");
  assert.ok(entry?.verified && entry.complete);
  assert.equal(entry.architecture, "Qwen2ForCausalLM");
  assert.equal(entry.format, "safetensors");

  // A second pull asks the API and downloads nothing.
  bed.hub.resetCounters();
  const again = await pull("test-org/tiny-qwen2", bed.opts);
  assert.equal(again.receivedBytes, 0);
  assert.ok(again.fromCache);
  assert.ok(!bed.hub.requests.some((q) => q.path.includes("/resolve/")));
});

test("a sharded checkpoint brings the index and exactly the shards it names", async () => {
  const files = deepseekFolder();
  bed.hub.addRepo("test-org/tiny-dsv3", { ...files, "consolidated.safetensors": Buffer.alloc(5000, 7) });
  const r = await pull("test-org/tiny-dsv3@main", bed.opts);
  assert.deepEqual(readdirSync(r.path).sort(), Object.keys(files).sort());
  const [entry] = (await listCached(bed.opts)).filter((e) => e.repo === "test-org/tiny-dsv3");
  assert.equal(entry?.architecture, "DeepseekV3ForCausalLM");
  assert.ok(entry?.complete);
});

test("an interrupted download leaves a partial file; the next pull resumes with Range and fetches only the rest", async () => {
  const files = qwen2Folder();
  const weights = files["model.safetensors"]!;
  const cut = 100_000;
  bed.hub.addRepo("test-org/resume", files);
  const partial = join(repoDir("test-org/resume"), "blobs", `${sha256(weights)}.incomplete`);
  bed.hub.cutAfter("test-org/resume", "model.safetensors", cut, { beforeDrop: () => sizeReached(partial, cut) });
  bed.hub.resetCounters();
  await assert.rejects(
    pull("test-org/resume", { ...bed.opts, retries: 0 }),
    (e) => e instanceof R1Error && e.message.includes(`interrupted after ${cut} of ${weights.length} bytes`),
  );
  assert.equal(statSync(partial).size, cut);
  assert.ok(!existsSync(join(repoDir("test-org/resume"), "blobs", sha256(weights))));

  bed.hub.resetCounters();
  const r = await pull("test-org/resume", bed.opts);
  const gets = cdnGets(weights);
  assert.equal(gets.length, 1);
  assert.equal(gets[0]!.range, `bytes=${cut}-`);
  assert.equal(gets[0]!.status, 206);
  assert.equal(gets[0]!.bytesSent, weights.length - cut);
  assert.ok(readFileSync(join(r.path, "model.safetensors")).equals(weights));
  assert.ok(!existsSync(partial));
  const resumed = bed.events.find((e) => e.type === "file-start" && e.path === "model.safetensors" && e.resumeFrom);
  assert.ok(resumed);
});

test("within one pull a dropped connection is retried from where it stopped", async () => {
  const files = qwen2Folder();
  const weights = files["model.safetensors"]!;
  bed.hub.addRepo("test-org/retry", files);
  const partial = join(repoDir("test-org/retry"), "blobs", `${sha256(weights)}.incomplete`);
  bed.hub.cutAfter("test-org/retry", "model.safetensors", 4096, { beforeDrop: () => sizeReached(partial, 4096) });
  bed.hub.resetCounters();
  bed.events.length = 0;
  const r = await pull("test-org/retry", { ...bed.opts, retries: 2 });
  const gets = cdnGets(weights);
  assert.deepEqual(
    gets.map((g) => [g.range, g.bytesSent]),
    [
      [undefined, 4096],
      ["bytes=4096-", weights.length - 4096],
    ],
  );
  assert.ok(bed.events.some((e) => e.type === "retry"));
  assert.ok(readFileSync(join(r.path, "model.safetensors")).equals(weights));
});

test("a corrupted byte is detected, and the file refused and deleted", async () => {
  const files = qwen2Folder();
  const weights = files["model.safetensors"]!;
  const repo = bed.hub.addRepo("test-org/corrupt", files);
  bed.hub.corrupt("test-org/corrupt", "model.safetensors", 12345);
  await assert.rejects(pull("test-org/corrupt", bed.opts), (e) => {
    assert.ok(e instanceof R1Error);
    assert.equal(e.code, "format");
    assert.match(e.message, /model\.safetensors: sha256 mismatch/);
    assert.match(e.message, new RegExp(sha256(weights)));
    assert.match(e.message, /refused and deleted/);
    return true;
  });
  const blobs = readdirSync(join(repoDir("test-org/corrupt"), "blobs"));
  assert.ok(!blobs.some((b) => b.startsWith(sha256(weights))), "neither the blob nor a partial remains");
  assert.ok(!existsSync(join(repoDir("test-org/corrupt"), "snapshots", repo.commit, "model.safetensors")));

  // Small files are checked too, against their git blob sha1.
  bed.hub.addRepo("test-org/corrupt-json", files);
  bed.hub.corrupt("test-org/corrupt-json", "config.json", 3);
  await assert.rejects(pull("test-org/corrupt-json", bed.opts), /config\.json: git blob sha1 mismatch/);
});

test("a gated repo answers 401 without a token, and the message names HF_TOKEN", async () => {
  const gated = bed.hub.addRepo("gated-org/r1", qwen2Folder(), { gatedTokens: ["hf_good"] });
  bed.hub.resetCounters();
  await assert.rejects(pull("gated-org/r1", bed.opts), (e) => {
    assert.ok(e instanceof R1Error);
    assert.match(e.message, /gated/);
    assert.match(e.message, /HF_TOKEN is not set/);
    assert.match(e.hint ?? "", /HF_TOKEN/);
    return true;
  });
  assert.ok(bed.hub.requests.some((q) => q.status === 401 && q.path.includes("/resolve/")));
  assert.ok(!existsSync(join(repoDir("gated-org/r1"), "snapshots", gated.commit)));

  await assert.rejects(
    pull("gated-org/r1", { ...bed.opts, token: "hf_wrong" }),
    (e) => e instanceof R1Error && /HTTP 403/.test(e.message) && /HF_TOKEN is set but it has no access/.test(e.message),
  );

  bed.hub.resetCounters();
  const r = await pull("gated-org/r1", { ...bed.opts, token: "hf_good" });
  assert.ok(existsSync(join(r.path, "model.safetensors")));
  const resolves = bed.hub.requests.filter((q) => q.path.includes("/resolve/"));
  assert.ok(resolves.length > 0 && resolves.every((q) => q.authorization === "Bearer hf_good"));
});

test("a full disk is reported with needed and free sizes before any byte is written", async () => {
  const files = qwen2Folder();
  bed.hub.addRepo("test-org/big", files);
  const probed: string[] = [];
  const total = Object.values(files).reduce((n, b) => n + b.length, 0);
  bed.hub.resetCounters();
  await assert.rejects(
    pull("test-org/big", {
      ...bed.opts,
      freeSpace: async (dir) => {
        probed.push(dir);
        return 1000;
      },
    }),
    (e) =>
      e instanceof R1Error &&
      new RegExp(`needs .*\\(${total} bytes\\)`).test(e.message) &&
      /has 1\.00 KB free/.test(e.message) &&
      /HF_HUB_CACHE/.test(e.hint ?? ""),
  );
  assert.equal(probed.length, 1);
  assert.ok(existsSync(probed[0]!), "statfs is asked about a folder that exists");
  assert.ok(!existsSync(repoDir("test-org/big")), "nothing was written");
  assert.ok(!bed.hub.requests.some((q) => q.path.includes("/resolve/")), "no download started");
});

test("pickle .bin and remote-code .py files are never downloaded", async () => {
  const files = qwen2Folder();
  bed.hub.addRepo("test-org/mixed", {
    ...files,
    "pytorch_model.bin": Buffer.from("\x80\x04pickle that would run code"),
    "modeling_evil.py": Buffer.from("import os; os.system('echo pwned')"),
    "training_args.bin": Buffer.alloc(300, 1),
  });
  bed.hub.resetCounters();
  const r = await pull("test-org/mixed", bed.opts);
  assert.ok(!bed.hub.requests.some((q) => /\.(bin|py)(\?|$)/.test(q.path)), "no request for .bin or .py");
  assert.ok(!readdirSync(r.path).some((f) => /\.(bin|py)$/.test(f)));
  assert.deepEqual(readdirSync(r.path).sort(), Object.keys(files).sort());

  bed.hub.addRepo("test-org/pickle-only", {
    "config.json": files["config.json"]!,
    "pytorch_model.bin": Buffer.alloc(9),
  });
  await assert.rejects(
    pull("test-org/pickle-only", bed.opts),
    (e) => e instanceof R1Error && /no safetensors weights/.test(e.message) && /pytorch_model\.bin/.test(e.message),
  );
});

test("org/repo:QUANT and org/repo/file.gguf fetch exactly one GGUF", async () => {
  const gguf = qwen2Gguf();
  const q8 = Buffer.concat([gguf.subarray(0, 4096), Buffer.alloc(1000, 8)]);
  bed.hub.addRepo("test-org/tiny-gguf", {
    "tiny-Q4_K_M.gguf": gguf,
    "tiny-Q8_0.gguf": q8,
    "README.md": Buffer.from("x"),
  });
  bed.hub.resetCounters();
  const r = await pull("test-org/tiny-gguf:q4_k_m", bed.opts);
  assert.ok(r.path.endsWith("tiny-Q4_K_M.gguf"));
  assert.ok(readFileSync(r.path).equals(gguf));
  assert.equal(cdnGets(q8).length, 0);
  const r2 = await pull("test-org/tiny-gguf/tiny-Q8_0.gguf", bed.opts);
  assert.ok(readFileSync(r2.path).equals(q8));
  await assert.rejects(
    pull("test-org/tiny-gguf", bed.opts),
    /matches 2 GGUF files: tiny-Q4_K_M\.gguf, tiny-Q8_0\.gguf/,
  );
  await assert.rejects(pull("test-org/tiny-gguf:Q5_K_M", bed.opts), /no \.gguf file matching/);
  const entries = (await listCached(bed.opts)).filter((e) => e.repo === "test-org/tiny-gguf");
  assert.deepEqual(
    entries.map((e) => [e.ref, e.format, e.quantization]),
    [
      ["test-org/tiny-gguf:Q4_K_M", "gguf", "Q4_K_M"],
      ["test-org/tiny-gguf:Q8_0", "gguf", "Q8_0"],
    ],
  );
  assert.ok(entries[0]!.architecture === "qwen2", `GGUF general.architecture read: ${entries[0]!.architecture}`);
});

test("unknown repos and revisions are named in the error", async () => {
  await assert.rejects(
    pull("nobody/nothing", bed.opts),
    (e) => e instanceof R1Error && e.code === "not_found" && /nobody\/nothing not found/.test(e.message),
  );
  bed.hub.addRepo("test-org/revs", qwen2Folder());
  await assert.rejects(pull("test-org/revs@v9", bed.opts), /revision not found/);
});

test("HF_ENDPOINT, HF_HUB_CACHE and HF_TOKEN are read from the environment", async () => {
  const saved = { ...process.env };
  try {
    process.env.HF_ENDPOINT = bed.hub.url;
    process.env.HF_HUB_CACHE = bed.cacheDir;
    process.env.HF_TOKEN = "hf_env";
    delete process.env.HF_HUB_OFFLINE;
    const repo = bed.hub.addRepo("env-org/gated", qwen2Folder(), { gatedTokens: ["hf_env"] });
    const r = await pull(`env-org/gated@${repo.commit}`, { onEvent: () => {}, retryDelayMs: 0 });
    assert.equal(r.path, join(repoDir("env-org/gated"), "snapshots", repo.commit));
    assert.ok(!existsSync(join(repoDir("env-org/gated"), "refs")), "no ref is written for a commit revision");
  } finally {
    process.env = saved;
  }
});

test("several files download at once, never more than the limit", async () => {
  const files: Record<string, Buffer> = { "config.json": qwen2Folder()["config.json"]! };
  for (let i = 0; i < 8; i++) files[`part-${i}.safetensors`] = Buffer.alloc(10_000 + i, i);
  files["twin.safetensors"] = files["part-0.safetensors"]!; // same content: one blob, fetched once
  bed.hub.addRepo("test-org/many", files);
  bed.hub.resetCounters();
  bed.hub.latencyMs = 40;
  try {
    await pull("test-org/many", bed.opts);
  } finally {
    bed.hub.latencyMs = 0;
  }
  assert.ok(bed.hub.maxInFlight >= 2 && bed.hub.maxInFlight <= 4, `max in flight ${bed.hub.maxInFlight}`);
  assert.equal(cdnGets(files["twin.safetensors"]!).length, 1);
  const snap = (await listCached(bed.opts)).find((e) => e.repo === "test-org/many")!.path;
  assert.equal(readlinkSync(join(snap, "twin.safetensors")), readlinkSync(join(snap, "part-0.safetensors")));
});

test("a GGUF in a subfolder links one level deeper, as huggingface_hub does", async () => {
  const gguf = qwen2Gguf();
  const repo = bed.hub.addRepo("test-org/nested", { "quants/tiny-Q2_K.gguf": gguf });
  const r = await pull("test-org/nested:Q2_K", bed.opts);
  assert.equal(r.path, join(repoDir("test-org/nested"), "snapshots", repo.commit, "quants", "tiny-Q2_K.gguf"));
  assert.equal(readlinkSync(r.path), `../../../blobs/${sha256(gguf)}`);
  const again = await pull("test-org/nested/quants/tiny-Q2_K.gguf", bed.opts);
  assert.equal(again.path, r.path);
  assert.equal(again.receivedBytes, 0);
});

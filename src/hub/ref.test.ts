import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { R1Error } from "../core/errors.js";
import { hubSettings } from "./env.js";
import { packageRoot, parseModelRef } from "./ref.js";
import { quantTag, selectFolderFiles, selectGguf } from "./select.js";

test("parses every reference form", () => {
  assert.deepEqual(parseModelRef("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "/nonexistent"), {
    kind: "hub",
    repo: "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
    revision: "main",
    explicitRevision: false,
    file: undefined,
    quant: undefined,
    text: "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
  });
  const q = parseModelRef("unsloth/DeepSeek-R1-GGUF:Q4_K_M", "/nonexistent");
  assert.equal(q.kind === "hub" && q.quant, "Q4_K_M");
  const f = parseModelRef("org/repo/sub/model-Q8_0.gguf@v1.0", "/nonexistent");
  assert.ok(f.kind === "hub");
  assert.equal(f.file, "sub/model-Q8_0.gguf");
  assert.equal(f.revision, "v1.0");
  const r = parseModelRef("org/repo@refs/pr/1:Q8_0", "/nonexistent");
  assert.ok(r.kind === "hub");
  assert.equal(r.revision, "refs/pr/1");
  assert.equal(r.quant, "Q8_0");
});

test("short names point into the package's models folder", () => {
  const r = parseModelRef("r1-tiny");
  assert.equal(r.kind, "local");
  assert.equal(r.kind === "local" && r.path, join(packageRoot(), "models", "r1-tiny"));
});

test("an existing local path wins over a Hub-looking name; a missing explicit path fails clearly", () => {
  const dir = mkdtempSync(join(tmpdir(), "r1ts-ref-"));
  try {
    mkdirSync(join(dir, "org", "repo"), { recursive: true });
    const r = parseModelRef("org/repo", dir);
    assert.equal(r.kind, "local");
    assert.throws(
      () => parseModelRef("./nope", dir),
      (e) => e instanceof R1Error && /does not exist/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad references get a usage error with the grammar as the hint", () => {
  for (const bad of ["org/repo/weights.bin", "org/re--po", "org/repo/x.gguf:Q4_0", "a/b/c/../d.gguf"]) {
    assert.throws(
      () => parseModelRef(bad, "/nonexistent"),
      (e) => e instanceof R1Error && !!e.hint,
      bad,
    );
  }
  assert.throws(
    () => parseModelRef("llama3", "/nonexistent"),
    (e) => e instanceof R1Error && e.code === "not_found",
  );
});

test("quant tags pick one GGUF, and ambiguity lists the candidates", () => {
  const files = ["README.md", "m-Q4_K_M.gguf", "m-Q4_K_S.gguf", "m-Q4_K.gguf", "m-Q8_0.gguf", "m-F16.gguf"];
  assert.deepEqual(selectGguf("o/r", files, "q4_k_m"), ["m-Q4_K_M.gguf"]);
  assert.deepEqual(selectGguf("o/r", files, "Q4_K"), ["m-Q4_K.gguf"]); // bounded match beats substring
  assert.throws(
    () => selectGguf("o/r", files, "Q4"),
    (e) => e instanceof R1Error && /m-Q4_K_M\.gguf/.test(e.message) && /m-Q4_K_S\.gguf/.test(e.message),
  );
  assert.throws(
    () => selectGguf("o/r", files, "Q5_K_M"),
    (e) => e instanceof R1Error && /no \.gguf file matching "Q5_K_M"/.test(e.message) && /m-Q8_0/.test(e.message),
  );
  assert.throws(() => selectGguf("o/r", files, undefined), /matches 5 GGUF files/);
  // Split GGUFs are one model: every part, first part first.
  const split = ["x-Q4_K_M-00002-of-00002.gguf", "x-Q4_K_M-00001-of-00002.gguf", "x-Q8_0.gguf"];
  assert.deepEqual(selectGguf("o/r", split, "Q4_K_M"), [
    "x-Q4_K_M-00001-of-00002.gguf",
    "x-Q4_K_M-00002-of-00002.gguf",
  ]);
  assert.equal(quantTag("DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf"), "Q4_K_M");
  assert.equal(quantTag("model-f32.gguf"), "F32");
  assert.equal(quantTag("x-IQ2_XXS-00001-of-00003.gguf"), "IQ2_XXS");
});

test("folder selection takes config, tokenizer and safetensors only", () => {
  const files = [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "generation_config.json",
    "model.safetensors",
    "pytorch_model.bin",
    "modeling_deepseek.py",
    "README.md",
    "original/consolidated.pth",
    "onnx/model.onnx",
  ];
  assert.deepEqual(selectFolderFiles("o/r", files), [
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "model.safetensors",
  ]);
  assert.throws(
    () => selectFolderFiles("o/r", ["config.json", "pytorch_model.bin"]),
    (e) => e instanceof R1Error && /pickle/.test(e.message),
  );
});

test("cache location follows huggingface_hub's environment variables", () => {
  const saved = { ...process.env };
  try {
    delete process.env.HF_HUB_CACHE;
    delete process.env.HUGGINGFACE_HUB_CACHE;
    process.env.HF_HOME = "/tmp/hf-home";
    assert.equal(hubSettings().cacheDir, "/tmp/hf-home/hub");
    process.env.HF_HUB_CACHE = "/tmp/hub-cache";
    assert.equal(hubSettings().cacheDir, "/tmp/hub-cache");
    process.env.HF_ENDPOINT = "https://mirror.example/";
    assert.equal(hubSettings().endpoint, "https://mirror.example");
    process.env.HF_HUB_OFFLINE = "1";
    assert.equal(hubSettings().offline, true);
    assert.equal(hubSettings({ offline: false }).offline, false);
  } finally {
    process.env = saved;
  }
});

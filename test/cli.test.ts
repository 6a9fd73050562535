// The CLI's machine-readable forms (a contract other tools rely on) and its answers to bad input: two plain
// lines (error, fix) and exit code 1, never a stack trace.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, renameSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { FIXTURES, type Golden, ROOT, tempDir } from "./fixtures.js";

const CLI = join(ROOT, "dist/src/cli/index.js");
const QWEN = join(FIXTURES, "tiny-qwen2");
const DSV3 = join(FIXTURES, "tiny-deepseek-v3");

function r1(...args: string[]) {
  const p = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, HF_HUB_OFFLINE: "1" },
  });
  return { code: p.status, out: p.stdout, err: p.stderr };
}

/** A copy of a fixture folder (weights symlinked) with config.json edited. */
function editedFixture(src: string, edit: (cfg: Record<string, unknown>) => void): string {
  const dir = tempDir("r1-cfg-");
  for (const f of ["tokenizer.json", "tokenizer_config.json", "model.safetensors"])
    symlinkSync(join(src, "hf", f), join(dir, f));
  const cfg = JSON.parse(readFileSync(join(src, "hf", "config.json"), "utf8"));
  edit(cfg);
  writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
  return dir;
}

function assertUserError(r: ReturnType<typeof r1>, ...needles: (string | RegExp)[]) {
  assert.equal(r.code, 1, `exit code (stderr: ${r.err})`);
  assert.match(r.err, /^error: /m);
  assert.doesNotMatch(r.err, /\n\s+at .+:\d+:\d+/, "no stack trace");
  for (const n of needles)
    assert.match(r.err, typeof n === "string" ? new RegExp(n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : n);
}

test("run --prompt-ids --json: the golden greedy tokens and logprobs, in the documented shape", () => {
  const golden = JSON.parse(readFileSync(join(DSV3, "golden.json"), "utf8")) as Golden;
  const p = golden.prompts.find((x) => x.name === "short");
  assert.ok(p);
  for (const model of [join(DSV3, "hf"), join(DSV3, "model-f32.gguf")]) {
    const r = r1(
      "run",
      "--model",
      model,
      "--prompt-ids",
      p.tokens.join(","),
      "--max-tokens",
      "8",
      "--temperature",
      "0",
      "--logprobs",
      "5",
      "--json",
    );
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out);
    assert.deepEqual(Object.keys(out).sort(), ["logprobs", "prompt_tokens", "text", "tokens"]);
    assert.equal(out.prompt_tokens, p.n_prompt);
    assert.deepEqual(out.tokens, p.generated.slice(0, 8));
    assert.equal(out.logprobs.length, 8);
    for (let s = 0; s < 8; s++) {
      const lp = out.logprobs[s];
      assert.equal(lp.token, p.generated[s]);
      assert.equal(lp.top.length, 5);
      for (let j = 0; j < 5; j++) {
        assert.equal(lp.top[j].token, p.steps[s].top5[j][0]);
        assert.ok(Math.abs(lp.top[j].logprob - p.steps[s].top5[j][1]) < 1e-4);
      }
    }
  }
});

test("run --prompt --json adds reasoning and answer; the R1 template starts inside <think>", () => {
  // The default model thinks, closes </think> and answers: the prompt ended in "<think>\n", so the text has
  // no opening tag and everything before </think> is reasoning.
  const r = r1("run", "r1-tiny", "--prompt", "What is 12+34?", "--max-tokens", "400", "--temperature", "0", "--json");
  assert.equal(r.code, 0, r.err);
  const out = JSON.parse(r.out);
  assert.ok(!out.text.startsWith("<think>"));
  const close = out.text.indexOf("</think>");
  assert.ok(close > 0, out.text);
  assert.equal(out.reasoning, out.text.slice(0, close).replace(/\n$/, ""));
  assert.equal(out.answer, out.text.slice(close + "</think>".length).replace(/^\n+/, ""));
  assert.match(out.answer, /^\d+$/);
});

test("tokenize --json and info --json", () => {
  const golden = JSON.parse(readFileSync(join(QWEN, "golden.json"), "utf8")) as Golden;
  const p = golden.prompts.find((x) => x.name === "short");
  assert.ok(p?.text);
  const t = r1("tokenize", "--model", join(QWEN, "hf"), "--text", p.text, "--add-special", "--json");
  assert.equal(t.code, 0, t.err);
  assert.deepEqual(JSON.parse(t.out), { ids: p.tokens });
  const i = r1("info", "--model", join(DSV3, "hf"), "--json");
  assert.equal(i.code, 0, i.err);
  const info = JSON.parse(i.out);
  assert.equal(info.architecture, "deepseek_v3");
  assert.ok(info.parameters.active_per_token < info.parameters.total);
  // MLA caches kv_lora_rank + qk_rope_head_dim = 160 + 16 values per layer, 3 layers, f32.
  assert.equal(info.kv_cache.bytes_per_token, 3 * 176 * 4);
  assert.ok(info.dtypes.f8_e4m3 > 0);
});

test("bad input: unknown architecture names the file and the model_type", () => {
  const dir = editedFixture(QWEN, (c) => {
    c.model_type = "gpt_neox";
  });
  assertUserError(r1("run", "--model", dir, "--prompt", "hi"), "config.json", "gpt_neox");
});

test("bad input: a config that disagrees with the tensor shapes names the tensor", () => {
  const dir = editedFixture(QWEN, (c) => {
    c.intermediate_size = 96;
  });
  assertUserError(r1("run", "--model", dir, "--prompt", "hi"), "mlp.gate_proj.weight", "[128,64]", "[96,64]");
});

test("bad input: a prompt longer than the context", () => {
  const ids = Array.from({ length: 40 }, (_, i) => i + 10).join(",");
  assertUserError(
    r1("run", "--model", join(QWEN, "hf"), "--prompt-ids", ids, "--ctx-size", "32"),
    "40 tokens",
    "32",
    /fix: .*ctx-size/,
  );
});

test("bad input: a truncated safetensors file names the file", () => {
  const dir = editedFixture(QWEN, () => {});
  const weights = join(dir, "model.safetensors");
  const real = join(QWEN, "hf", "model.safetensors");
  // Replace the symlink with a truncated copy.
  const copy = join(dir, "copy.safetensors");
  copyFileSync(real, copy);
  truncateSync(copy, 100_000);
  renameSync(copy, weights);
  assertUserError(r1("run", "--model", dir, "--prompt", "hi"), "model.safetensors");
});

test("bad input: flags", () => {
  assertUserError(r1("run", "--model", join(QWEN, "hf")), "--prompt");
  assertUserError(r1("run", "--model", join(QWEN, "hf"), "--prompt-ids", "1,x"), "prompt-ids");
  assertUserError(r1("run", "--model", join(QWEN, "hf"), "--prompt", "hi", "--temperature", "-1"), "temperature");
  assertUserError(r1("run", "--model", "/nonexistent/model", "--prompt", "hi"), "/nonexistent/model");
  const u = r1("frobnicate");
  assert.equal(u.code, 1);
  assert.match(u.err, /unknown command/);
});

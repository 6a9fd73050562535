// Test payloads for the fake Hub: the shared golden fixtures (../shared/fixtures beside the repo, or
// $R1_FIXTURES) read into memory, never written. Where a checkout has no fixtures, small synthetic stand-ins with
// the same file names and header shapes are used instead, so the hub tests still run (they never parse weights).

import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { packageRoot } from "../ref.js";

export function fixturesDir(): string | undefined {
  const candidates = [process.env.R1_FIXTURES, resolve(packageRoot(), "../shared/fixtures")];
  return candidates.find((d): d is string => !!d && existsSync(join(d, "tiny-qwen2")));
}

function readFolder(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const name of readdirSync(dir)) out[name] = readFileSync(join(dir, name));
  return out;
}

/** A GGUF v3 header with general.architecture and general.file_type, then filler (enough for gguf_peek). */
export function syntheticGguf(arch: string, fileType: number, fillerBytes: number): Buffer {
  const parts: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };
  const u64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return b;
  };
  const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
  parts.push(Buffer.from("GGUF"), u32(3), u64(0), u64(2));
  parts.push(str("general.architecture"), u32(8), str(arch));
  parts.push(str("general.file_type"), u32(4), u32(fileType));
  parts.push(randomBytes(fillerBytes));
  return Buffer.concat(parts);
}

function syntheticFolder(arch: string, shards: number): Record<string, Buffer> {
  const files: Record<string, Buffer> = {
    "config.json": Buffer.from(JSON.stringify({ architectures: [arch], model_type: "x", torch_dtype: "bfloat16" })),
    "generation_config.json": Buffer.from('{"do_sample":true}'),
    "tokenizer.json": Buffer.from(JSON.stringify({ version: "1.0", model: { type: "BPE", vocab: {}, merges: [] } })),
    "tokenizer_config.json": Buffer.from("{}"),
  };
  if (shards === 1) files["model.safetensors"] = randomBytes(400_000);
  else {
    const weightMap: Record<string, string> = {};
    for (let i = 1; i <= shards; i++) {
      const name = `model-0000${i}-of-0000${shards}.safetensors`;
      files[name] = randomBytes(600_000);
      weightMap[`layer${i}.weight`] = name;
    }
    files["model.safetensors.index.json"] = Buffer.from(JSON.stringify({ metadata: {}, weight_map: weightMap }));
  }
  return files;
}

/** The tiny Qwen2 folder checkpoint (one model.safetensors). */
export function qwen2Folder(): Record<string, Buffer> {
  const d = fixturesDir();
  return d ? readFolder(join(d, "tiny-qwen2", "hf")) : syntheticFolder("Qwen2ForCausalLM", 1);
}

/** The tiny DeepSeek-V3 folder checkpoint (two shards and an index). */
export function deepseekFolder(): Record<string, Buffer> {
  const d = fixturesDir();
  return d ? readFolder(join(d, "tiny-deepseek-v3", "hf")) : syntheticFolder("DeepseekV3ForCausalLM", 2);
}

/** The tiny Qwen2 as GGUF (F32). */
export function qwen2Gguf(): Buffer {
  const d = fixturesDir();
  return d ? readFileSync(join(d, "tiny-qwen2", "model-f32.gguf")) : syntheticGguf("qwen2", 0, 300_000);
}

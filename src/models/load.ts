// Checkpoint path -> ready model: picks the container (HF folder or GGUF file), parses the config, maps
// tensor names to canonical ones, settles the facts only the tensors can tell (tied head, biases, routing bias,
// RoPE pairing), and hands everything to the architecture's builder from the registry.

import { existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import { R1Error } from "../core/errors.js";
import { f32View } from "../core/tensor.js";
import { openGGUF } from "../formats/gguf.js";
import { canonicalFromGguf, canonicalFromHf } from "../formats/names.js";
import { openSafetensorsFolder } from "../formats/safetensors.js";
import type { TensorSource } from "../formats/source.js";
import type { Kernels } from "../kernels/kernels.js";
import { refKernels } from "../kernels/ref.js";
import { checkDims, type GenerationDefaults, type ModelConfig } from "./config.js";
import { parseGgufConfig } from "./config_gguf.js";
import { readGenerationDefaults, readHfConfig } from "./config_hf.js";
import type { CausalLM } from "./model.js";
import { buildModel } from "./registry.js";
import { WeightStore } from "./store.js";

export interface Checkpoint {
  path: string;
  format: "hf" | "gguf";
  config: ModelConfig;
  generation: GenerationDefaults;
  source: TensorSource;
  store: WeightStore;
  notes: string[];
}

/** Opens a checkpoint and reads its tables (config, tensor headers) without reading any weights. */
export function openCheckpoint(path: string): Checkpoint {
  if (!existsSync(path))
    throw new R1Error(
      "not_found",
      `${path}: no such file or folder`,
      "pass a Hugging Face checkpoint folder or a .gguf file",
    );
  const notes: string[] = [];
  if (statSync(path).isDirectory()) {
    const config = readHfConfig(path);
    checkDims(`${path}/config.json`, config);
    const source = openSafetensorsFolder(path);
    const names = new Map<string, string>();
    const unknown: string[] = [];
    for (const n of source.names()) {
      const c = canonicalFromHf(n);
      if (c) names.set(c, n);
      else unknown.push(n);
    }
    if (unknown.length) notes.push(`ignored ${unknown.length} tensors r1ts does not use (e.g. ${unknown[0]})`);
    if (!names.has("output")) config.tieEmbeddings = true;
    noteMtp(config, names, notes);
    const store = new WeightStore(source, names, path);
    return { path, format: "hf", config, generation: readGenerationDefaults(path, config), source, store, notes };
  }
  const gguf = openGGUF(path);
  const config = parseGgufConfig(gguf.metadata, path);
  const names = new Map<string, string>();
  for (const n of gguf.names()) names.set(canonicalFromGguf(n), n);
  const store = new WeightStore(gguf, names, path);
  config.tieEmbeddings = !names.has("output");
  if (config.arch === "deepseek_v3") config.selectionBias = names.has(`blk.${config.firstKDense}.exp_probs_b`);
  else config.qkvBias = names.has("blk.0.attn_q.bias");
  if (names.has("rope_freqs")) config.rope.freqFactors = f32View(store.tensor("rope_freqs"));
  checkDims(path, config);
  noteMtp(config, names, notes);
  const generation: GenerationDefaults = { eosIds: config.eosIds, bosId: config.bosId };
  return { path, format: "gguf", config, generation, source: gguf, store, notes };
}

function noteMtp(config: ModelConfig, names: Map<string, string>, notes: string[]): void {
  const extra = [...names.keys()].filter((n) => {
    const m = /^blk\.(\d+)\./.exec(n);
    return m && Number(m[1]) >= config.nLayers;
  });
  if (extra.length)
    notes.push(
      `multi-token-prediction layer kept on disk (${extra.length} tensors at layer ${config.nLayers}); ` +
        "decoding uses the main layers only",
    );
}

export interface LoadOptions {
  kernels?: Kernels;
}

/** Loads every weight the forward pass needs (each read once from disk into its kernel buffer). */
export function loadModel(path: string, opts: LoadOptions = {}): { ckpt: Checkpoint; model: CausalLM } {
  const ckpt = openCheckpoint(path);
  const kernels = opts.kernels ?? refKernels;
  if (kernels.alloc) ckpt.store.alloc = kernels.alloc.bind(kernels);
  const model = buildModel(ckpt.config, ckpt.store, kernels, ckpt.notes);
  return { ckpt, model };
}

export function modelName(path: string): string {
  return basename(path.replace(/\/+$/, "")).replace(/\.gguf$/, "");
}

// Loads a checkpoint with every tensor read straight from disk into the kernels' own buffers (Kernels.alloc),
// so the WASM backend reads weights where they lie and the process holds one copy of the model. This is the
// wiring WeightStore will do itself once TensorSource.load takes an allocator; until then the bench rebuilds the
// store over a source that reads into alloc()'s buffers.

import { closeSync, openSync } from "node:fs";
import type { Tensor } from "../src/core/tensor.js";
import { readFully, type TensorSource } from "../src/formats/source.js";
import type { Kernels } from "../src/kernels/kernels.js";
import { type Checkpoint, openCheckpoint } from "../src/models/load.js";
import type { CausalLM } from "../src/models/model.js";
import { buildModel } from "../src/models/registry.js";
import { WeightStore } from "../src/models/store.js";

function allocatingSource(
  src: TensorSource,
  alloc: (n: number) => Uint8Array,
): TensorSource & { fds: Map<string, number> } {
  const fds = new Map<string, number>();
  return {
    files: src.files,
    metadata: src.metadata,
    fds,
    names: () => src.names(),
    info: (n) => src.info(n),
    has: (n) => src.has(n),
    load(name: string): Tensor {
      const info = src.info(name);
      let fd = fds.get(info.file);
      if (fd === undefined) {
        fd = openSync(info.file, "r");
        fds.set(info.file, fd);
      }
      const bytes = alloc(info.size);
      readFully(fd, bytes, info.offset, info.file, name);
      return { dtype: info.dtype, shape: info.shape.slice(), bytes };
    },
    close() {
      for (const fd of fds.values()) closeSync(fd);
      fds.clear();
      src.close();
    },
  };
}

export interface Loaded {
  ckpt: Checkpoint;
  model: CausalLM;
  /** Bytes of the weights one decode step reads: all matrices but the embedding (one row of it), and for MoE
   *  layers only topK routed experts (the shared ones always). */
  activeBytes: number;
  totalBytes: number;
}

export function loadForBench(path: string, k: Kernels): Loaded {
  const ckpt = openCheckpoint(path);
  const src = k.alloc ? allocatingSource(ckpt.source, (n) => k.alloc!(n)) : ckpt.source;
  const names = new Map(ckpt.store.canonicalNames().map((c) => [c, ckpt.store.info(c).name]));
  const store = new WeightStore(src, names, path);
  const model = buildModel(ckpt.config, store, k, ckpt.notes);
  let total = 0;
  let active = 0;
  const cfg = ckpt.config;
  const frac = cfg.arch === "deepseek_v3" ? cfg.topK / cfg.nRoutedExperts : 1;
  for (const c of store.canonicalNames()) {
    const size = store.info(c).size;
    total += size;
    if (c === "token_embd" && store.has("output")) continue;
    active += /_exps/.test(c) ? size * frac : size;
  }
  src.close();
  return { ckpt, model, activeBytes: active, totalBytes: total };
}

// r1 info: what a checkpoint is, from its tables alone (no weights read): architecture, parameter counts
// (total, and active per token for MoE), dtypes, KV-cache bytes per token.

import { headDimOf, kvValuesPerToken } from "../../models/config.js";
import { openCheckpoint } from "../../models/load.js";
import { countFor } from "../../models/stats.js";
import { modelRef, parse } from "../args.js";
import type { Command } from "../command.js";
import { resolveModelArg } from "../model_arg.js";

const usage = `r1 info --model PATH [--json] [--no-pull]`;

export const command: Command = {
  name: "info",
  summary: "describe a checkpoint: architecture, parameters, dtypes, KV-cache size",
  usage,
  async run(argv) {
    const { values: v, positionals } = parse(
      argv,
      { model: { type: "string" }, json: { type: "boolean" }, "no-pull": { type: "boolean" } },
      usage,
    );
    const path = await resolveModelArg(modelRef(v, positionals, usage), {
      pull: !v["no-pull"],
    });
    const ckpt = openCheckpoint(path);
    const c = ckpt.config;
    const counts = countFor(c, ckpt.store);
    const kvValues = kvValuesPerToken(c);
    const { freqFactors: _ff, ...rope } = c.rope;
    const out = {
      path,
      format: ckpt.format,
      architecture: c.arch,
      parameters: { total: counts.params.total, active_per_token: counts.params.active },
      weight_bytes: { total: counts.bytes.total, active_per_token: counts.bytes.active },
      dtypes: counts.dtypes,
      layers: c.nLayers,
      hidden_size: c.hidden,
      heads: c.nHeads,
      head_dim: headDimOf(c),
      vocab_size: c.vocabSize,
      max_position_embeddings: c.maxPos,
      rope,
      kv_cache: {
        values_per_token: kvValues,
        bytes_per_token: kvValues * 4,
        dtype: "f32",
        layout:
          c.arch === "deepseek_v3" ? "MLA latent (kv_lora_rank + qk_rope_head_dim per layer)" : "K and V per KV head",
      },
      ...(c.arch === "deepseek_v3"
        ? {
            moe: {
              routed_experts: c.nRoutedExperts,
              shared_experts: c.nSharedExperts,
              experts_per_token: c.topK,
              n_group: c.nGroup,
              topk_group: c.topkGroup,
              scoring: c.scoring,
              selection_bias: c.selectionBias,
              first_k_dense_replace: c.firstKDense,
            },
          }
        : {}),
      notes: ckpt.notes,
    };
    ckpt.source.close();
    if (v.json) {
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return 0;
    }
    const fmt = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${n}`);
    const lines = [
      `${path} (${ckpt.format})`,
      `architecture   ${c.arch}, ${c.nLayers} layers, hidden ${c.hidden}, ${c.nHeads} heads`,
      `parameters     ${fmt(counts.params.total)} total, ${fmt(counts.params.active)} active per token`,
      `weights        ${(counts.bytes.total / 2 ** 20).toFixed(1)} MiB (${Object.entries(counts.dtypes)
        .map(([d, n]) => `${n} ${d}`)
        .join(", ")})`,
      `KV cache       ${kvValues * 4} bytes per token (f32, ${out.kv_cache.layout})`,
      ...ckpt.notes.map((n) => `note           ${n}`),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  },
};

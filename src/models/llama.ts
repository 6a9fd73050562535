// The Llama family: Llama 3 and Qwen2 (R1-Distill-Llama-8B/70B, R1-Distill-Qwen-1.5B..32B).
// Per block: x += attn(rmsnorm(x)); x += swiglu(rmsnorm(x)). Qwen2 differs only by q/k/v biases, which the
// config says (qkvBias) and the checkpoint carries; RoPE pairing follows the weights' layout (see load.ts).

import { cacheArray, type FfnWeights, type Kernels } from "../kernels/kernels.js";
import { type DenseConfig, kvValuesPerToken } from "./config.js";
import { addInto, type DecoderWeights, runDecoder, type Seg } from "./layers/decoder.js";
import { type GqaDims, type GqaWeights, gqaBlock } from "./layers/gqa.js";
import { ropeTables } from "./layers/rope.js";
import type { BatchItem, CausalLM, KVCache } from "./model.js";
import { countFor, type ModelBase, modelBase } from "./stats.js";
import type { WeightStore } from "./store.js";

interface Block {
  attn: GqaWeights;
  ffnNorm: Float32Array;
  ffn: FfnWeights;
}

export function buildLlama(cfg: DenseConfig, s: WeightStore, k: Kernels, notes: string[]): CausalLM {
  const { hidden, nHeads, nKvHeads: nKv, headDim: hd, intermediate: inter } = cfg;
  const dec: DecoderWeights = {
    embed: s.matrix("token_embd", cfg.vocabSize, hidden),
    outNorm: s.vector("output_norm", hidden),
    head: s.matrix(cfg.tieEmbeddings ? "token_embd" : "output", cfg.vocabSize, hidden),
  };
  const blocks: Block[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `blk.${l}`;
    blocks.push({
      attn: {
        norm: s.vector(`${p}.attn_norm`, hidden),
        q: s.matrix(`${p}.attn_q`, nHeads * hd, hidden),
        k: s.matrix(`${p}.attn_k`, nKv * hd, hidden),
        v: s.matrix(`${p}.attn_v`, nKv * hd, hidden),
        o: s.matrix(`${p}.attn_output`, hidden, nHeads * hd),
        qBias: cfg.qkvBias ? s.vector(`${p}.attn_q.bias`, nHeads * hd) : undefined,
        kBias: cfg.qkvBias ? s.vector(`${p}.attn_k.bias`, nKv * hd) : undefined,
        vBias: cfg.qkvBias ? s.vector(`${p}.attn_v.bias`, nKv * hd) : undefined,
      },
      ffnNorm: s.vector(`${p}.ffn_norm`, hidden),
      ffn: {
        gate: s.matrix(`${p}.ffn_gate`, inter, hidden),
        up: s.matrix(`${p}.ffn_up`, inter, hidden),
        down: s.matrix(`${p}.ffn_down`, hidden, inter),
      },
    });
  }
  const dims: GqaDims = { hidden, nHeads, nKv, hd, eps: cfg.rmsEps, rope: cfg.rope, tables: ropeTables(cfg.rope) };

  const block = (l: number, x: Float32Array, N: number, segs: Seg[]) => {
    const b = blocks[l];
    gqaBlock(k, b.attn, dims, x, N, segs, l);
    const h = new Float32Array(N * hidden);
    k.rmsnorm(h, x, b.ffnNorm, N, hidden, cfg.rmsEps);
    const f = new Float32Array(N * hidden);
    k.ffn(f, h, b.ffn, N);
    addInto(x, f, N * hidden);
  };
  const run = (items: BatchItem[]) => runDecoder(k, dec, cfg.nLayers, hidden, cfg.rmsEps, block, items);

  const base: ModelBase = modelBase(countFor(cfg, s), notes);
  return {
    ...base,
    config: cfg,
    kernels: k,
    newCache(ctx: number): KVCache {
      const layers = blocks.map(() => [cacheArray(k, ctx * nKv * hd), cacheArray(k, ctx * nKv * hd)]);
      return { ctx, pos: 0, layers };
    },
    forward: (tokens, cache, allLogits = false) => run([{ tokens, cache, allLogits }])[0],
    forwardBatch: run,
    cacheBytesPerToken: () => kvValuesPerToken(cfg) * 4,
  };
}

// DeepSeek-V3 / R1 (and V2-Lite-shaped checkpoints): MLA attention + DeepSeekMoE.
// Per block: x += MLA(rmsnorm(x)); x += FFN(rmsnorm(x)), where FFN is a dense SwiGLU for the first
// first_k_dense_replace layers and a MoE after. The MTP layer (index nLayers) is not part of the forward pass:
// its tensors stay on disk and load.ts notes it.

import { alignedBytes } from "../core/tensor.js";
import { cacheArray, type FfnWeights, type Kernels } from "../kernels/kernels.js";
import { asWeight, decodeRow, rowRange, type Weight } from "../kernels/weight.js";
import { type DeepseekV3Config, isMoeLayer, kvValuesPerToken } from "./config.js";
import { addInto, type DecoderWeights, runDecoder, type Seg } from "./layers/decoder.js";
import { type MlaWeights, mlaBlock, mlaScale } from "./layers/mla.js";
import { type MoeWeights, moeFfn } from "./layers/moe.js";
import { ropeTables } from "./layers/rope.js";
import type { BatchItem, CausalLM, KVCache } from "./model.js";
import { countFor, modelBase } from "./stats.js";
import type { WeightStore } from "./store.js";

interface Block {
  attn: MlaWeights;
  ffnNorm: Float32Array;
  dense?: FfnWeights;
  moe?: MoeWeights;
}

/**
 * W_UK and W_UV per head. GGUF (llama.cpp >= 2025) stores them split: attn_k_b [H, kvLora, nope] and
 * attn_v_b [H, v, kvLora], used as views. HF stores kv_b [H*(nope+v), kvLora]; W_UV is a row view of it, but
 * W_UK needs the transpose, built once here in f32 (H*kvLora*nope floats per layer).
 */
function absorbedWeights(s: WeightStore, p: string, c: DeepseekV3Config): { wUK: Weight[]; wUV: Weight[] } {
  const { nHeads: H, kvLoraRank: R, qkNopeDim: nope, vHeadDim: V } = c;
  if (s.has(`${p}.attn_k_b`)) {
    const kb = s.matrix3(`${p}.attn_k_b`, H, R, nope);
    const vb = s.matrix3(`${p}.attn_v_b`, H, V, R);
    return { wUK: kb, wUV: vb };
  }
  const kvb = s.matrix(`${p}.attn_kv_b`, H * (nope + V), R);
  const wUK: Weight[] = [];
  const wUV: Weight[] = [];
  const row = new Float32Array(R);
  for (let h = 0; h < H; h++) {
    const bytes = alignedBytes(R * nope * 4);
    const t = new Float32Array(bytes.buffer, 0, R * nope); // [R, nope]
    for (let d = 0; d < nope; d++) {
      decodeRow(kvb, h * (nope + V) + d, row);
      for (let r = 0; r < R; r++) t[r * nope + d] = row[r];
    }
    wUK.push(asWeight({ dtype: "f32", shape: [R, nope], bytes }));
    wUV.push(rowRange(kvb, h * (nope + V) + nope, V));
  }
  return { wUK, wUV };
}

function ffn(s: WeightStore, p: string, suffix: string, hidden: number, inter: number): FfnWeights {
  return {
    gate: s.matrix(`${p}.ffn_gate${suffix}`, inter, hidden),
    up: s.matrix(`${p}.ffn_up${suffix}`, inter, hidden),
    down: s.matrix(`${p}.ffn_down${suffix}`, hidden, inter),
  };
}

export function buildDeepseekV3(c: DeepseekV3Config, s: WeightStore, k: Kernels, notes: string[]): CausalLM {
  const { hidden, nHeads: H, kvLoraRank: R, qkNopeDim: nope, qkRopeDim: rope, vHeadDim: V } = c;
  const E = c.nRoutedExperts;
  const dec: DecoderWeights = {
    embed: s.matrix("token_embd", c.vocabSize, hidden),
    outNorm: s.vector("output_norm", hidden),
    head: s.matrix(c.tieEmbeddings ? "token_embd" : "output", c.vocabSize, hidden),
  };
  const blocks: Block[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const p = `blk.${l}`;
    const q = c.qLoraRank
      ? {
          qA: s.matrix(`${p}.attn_q_a`, c.qLoraRank, hidden),
          qANorm: s.vector(`${p}.attn_q_a_norm`, c.qLoraRank),
          qB: s.matrix(`${p}.attn_q_b`, H * (nope + rope), c.qLoraRank),
        }
      : { q: s.matrix(`${p}.attn_q`, H * (nope + rope), hidden) };
    const attn: MlaWeights = {
      norm: s.vector(`${p}.attn_norm`, hidden),
      ...q,
      kvA: s.matrix(`${p}.attn_kv_a_mqa`, R + rope, hidden),
      kvANorm: s.vector(`${p}.attn_kv_a_norm`, R),
      ...absorbedWeights(s, p, c),
      o: s.matrix(`${p}.attn_output`, hidden, H * V),
    };
    const b: Block = { attn, ffnNorm: s.vector(`${p}.ffn_norm`, hidden) };
    if (isMoeLayer(c, l)) {
      const mi = c.moeIntermediate;
      b.moe = {
        router: s.matrix(`${p}.ffn_gate_inp`, E, hidden),
        bias: c.selectionBias ? s.vector(`${p}.exp_probs_b`, E) : undefined,
        experts: Array.from({ length: E }, (_, e) => ({
          gate: s.expert(`${p}.ffn_gate_exps`, e, E, mi, hidden),
          up: s.expert(`${p}.ffn_up_exps`, e, E, mi, hidden),
          down: s.expert(`${p}.ffn_down_exps`, e, E, hidden, mi),
        })),
        shared: c.nSharedExperts > 0 ? ffn(s, p, "_shexp", hidden, mi * c.nSharedExperts) : undefined,
      };
    } else b.dense = ffn(s, p, "", hidden, c.intermediate);
    blocks.push(b);
  }
  const tables = ropeTables(c.rope);
  const scale = mlaScale(c);

  const block = (l: number, x: Float32Array, N: number, segs: Seg[]) => {
    const b = blocks[l];
    mlaBlock(k, b.attn, c, tables, scale, x, N, segs, l);
    const h = new Float32Array(N * hidden);
    k.rmsnorm(h, x, b.ffnNorm, N, hidden, c.rmsEps);
    const f = new Float32Array(N * hidden);
    if (b.moe) moeFfn(k, b.moe, c, h, N, f);
    else if (b.dense) k.ffn(f, h, b.dense, N);
    addInto(x, f, N * hidden);
  };
  const run = (items: BatchItem[]) => runDecoder(k, dec, c.nLayers, hidden, c.rmsEps, block, items);

  return {
    ...modelBase(countFor(c, s), notes),
    config: c,
    kernels: k,
    newCache(ctx: number): KVCache {
      const layers = blocks.map(() => [cacheArray(k, ctx * R), cacheArray(k, ctx * rope)]);
      return { ctx, pos: 0, layers };
    },
    forward: (tokens, cache, allLogits = false) => run([{ tokens, cache, allLogits }])[0],
    forwardBatch: run,
    cacheBytesPerToken: () => kvValuesPerToken(c) * 4,
  };
}

// Tensor names: Hugging Face and GGUF -> one canonical name, in one table each. Canonical names follow
// llama.cpp's short forms (blk.N.attn_q) without the ".weight" suffix; biases end in ".bias", FP8 block scales
// in ".scale", and per-expert HF tensors in ".E" (GGUF stacks experts in one 3-D tensor instead).
// Model code only ever sees canonical names.

const HF_RULES: [RegExp, string][] = [
  [/^model\.embed_tokens\.weight$/, "token_embd"],
  [/^model\.norm\.weight$/, "output_norm"],
  [/^lm_head\.weight$/, "output"],
  [/^model\.layers\.(\d+)\.input_layernorm\.weight$/, "blk.$1.attn_norm"],
  [/^model\.layers\.(\d+)\.post_attention_layernorm\.weight$/, "blk.$1.ffn_norm"],
  [/^model\.layers\.(\d+)\.self_attn\.q_proj\.(weight|bias)$/, "blk.$1.attn_q.$2"],
  [/^model\.layers\.(\d+)\.self_attn\.k_proj\.(weight|bias)$/, "blk.$1.attn_k.$2"],
  [/^model\.layers\.(\d+)\.self_attn\.v_proj\.(weight|bias)$/, "blk.$1.attn_v.$2"],
  [/^model\.layers\.(\d+)\.self_attn\.o_proj\.(weight|bias)$/, "blk.$1.attn_output.$2"],
  [/^model\.layers\.(\d+)\.self_attn\.q_a_proj\.weight$/, "blk.$1.attn_q_a.weight"],
  [/^model\.layers\.(\d+)\.self_attn\.q_a_layernorm\.weight$/, "blk.$1.attn_q_a_norm.weight"],
  [/^model\.layers\.(\d+)\.self_attn\.q_b_proj\.weight$/, "blk.$1.attn_q_b.weight"],
  [/^model\.layers\.(\d+)\.self_attn\.kv_a_proj_with_mqa\.weight$/, "blk.$1.attn_kv_a_mqa.weight"],
  [/^model\.layers\.(\d+)\.self_attn\.kv_a_layernorm\.weight$/, "blk.$1.attn_kv_a_norm.weight"],
  [/^model\.layers\.(\d+)\.self_attn\.kv_b_proj\.weight$/, "blk.$1.attn_kv_b.weight"],
  [/^model\.layers\.(\d+)\.mlp\.gate_proj\.weight$/, "blk.$1.ffn_gate.weight"],
  [/^model\.layers\.(\d+)\.mlp\.up_proj\.weight$/, "blk.$1.ffn_up.weight"],
  [/^model\.layers\.(\d+)\.mlp\.down_proj\.weight$/, "blk.$1.ffn_down.weight"],
  [/^model\.layers\.(\d+)\.mlp\.gate\.weight$/, "blk.$1.ffn_gate_inp.weight"],
  [/^model\.layers\.(\d+)\.mlp\.gate\.e_score_correction_bias$/, "blk.$1.exp_probs_b.weight"],
  [/^model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.gate_proj\.weight$/, "blk.$1.ffn_gate_exps.$2.weight"],
  [/^model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.up_proj\.weight$/, "blk.$1.ffn_up_exps.$2.weight"],
  [/^model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.down_proj\.weight$/, "blk.$1.ffn_down_exps.$2.weight"],
  [/^model\.layers\.(\d+)\.mlp\.shared_experts\.gate_proj\.weight$/, "blk.$1.ffn_gate_shexp.weight"],
  [/^model\.layers\.(\d+)\.mlp\.shared_experts\.up_proj\.weight$/, "blk.$1.ffn_up_shexp.weight"],
  [/^model\.layers\.(\d+)\.mlp\.shared_experts\.down_proj\.weight$/, "blk.$1.ffn_down_shexp.weight"],
  // The MTP module (DeepSeek-V3 layer 61): kept under its own names, out of the main forward pass.
  [/^model\.layers\.(\d+)\.(eh_proj|enorm|hnorm)\.weight$/, "blk.$1.nextn.$2.weight"],
  [/^model\.layers\.(\d+)\.shared_head\.(norm|head)\.weight$/, "blk.$1.nextn.shared_head_$2.weight"],
  [/^model\.layers\.(\d+)\.embed_tokens\.weight$/, "blk.$1.nextn.embed_tokens.weight"],
];

function finish(name: string): string {
  return name.replace(/\.weight$/, "");
}

/** HF name -> canonical; FP8 `X.weight_scale_inv` -> `X.scale`; null when the name is not one r1ts knows. */
export function canonicalFromHf(name: string): string | null {
  const scale = name.endsWith(".weight_scale_inv");
  const key = scale ? `${name.slice(0, -".weight_scale_inv".length)}.weight` : name;
  for (const [re, to] of HF_RULES) {
    if (re.test(key)) {
      const c = finish(key.replace(re, to));
      return scale ? `${c}.scale` : c;
    }
  }
  return null;
}

/** GGUF name -> canonical: drop ".weight"; llama.cpp's `exp_probs_b.bias` is the routing correction bias. */
export function canonicalFromGguf(name: string): string {
  if (name.endsWith(".exp_probs_b.bias")) return name.slice(0, -".bias".length);
  return finish(name);
}

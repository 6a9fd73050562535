// The kernel module's exports: src/kernels/wasm.ts calls these by name (on the main thread and in each worker).
export { attention, mla_attention } from "./attention";
export { mm_bf16, mm_f8, mm_f16, mm_f32 } from "./float_dot";
export { mm_multi, swiglu } from "./fused";
export { quantize_q8, quantize_rows } from "./quant_act";
export { mm_q4_k, mm_q6_k } from "./kquant_dot";
export { mm_q4_0, mm_q8_0 } from "./quant_dot";
export { read_bw } from "./membw";
export { prefill_k } from "./prefill_k";

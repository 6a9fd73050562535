// The trainer's kernel module (build/r1ts-train.wasm): src/train/gemm_wasm.ts, attention.ts and precision.ts
// call these by name. Its own module, apart from the runtime's (assembly/index.ts): ordinary (non-shared)
// memory that the caller grows, one thread, plain SIMD128.
export { mla_bwd, mla_fwd } from "./attention";
export { quant_cols, quant_rows } from "./fp8";
export { gemm_acc, repack, transpose } from "./gemm";

/** First free byte after the module's static data: the caller's scratch starts here. */
export function heap_base(): usize {
  return __heap_base;
}

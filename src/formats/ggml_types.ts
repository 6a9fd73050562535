// ggml's tensor type ids as GGUF stores them, with each type's block geometry (elements per block, bytes per
// block, from gguf-py's GGML_QUANT_SIZES) so the reader can check sizes and offsets even of tensors it cannot
// load, and the r1ts dtype for the ones it can. Ids 4, 5, 31-33 and 36-38 were removed from ggml; they stay
// unknown here, as they do in ggml.

import type { DType } from "../core/dtype.js";

export interface GGMLType {
  name: string;
  blockElems: number;
  blockBytes: number;
  /** Present when r1ts can load tensors of this type. */
  dtype?: DType;
}

const QK_K = 256;

export const GGML_TYPES: ReadonlyMap<number, GGMLType> = new Map<number, GGMLType>([
  [0, { name: "F32", blockElems: 1, blockBytes: 4, dtype: "f32" }],
  [1, { name: "F16", blockElems: 1, blockBytes: 2, dtype: "f16" }],
  [2, { name: "Q4_0", blockElems: 32, blockBytes: 18, dtype: "q4_0" }],
  [3, { name: "Q4_1", blockElems: 32, blockBytes: 20 }],
  [6, { name: "Q5_0", blockElems: 32, blockBytes: 22 }],
  [7, { name: "Q5_1", blockElems: 32, blockBytes: 24 }],
  [8, { name: "Q8_0", blockElems: 32, blockBytes: 34, dtype: "q8_0" }],
  [9, { name: "Q8_1", blockElems: 32, blockBytes: 36 }],
  [10, { name: "Q2_K", blockElems: QK_K, blockBytes: 84 }],
  [11, { name: "Q3_K", blockElems: QK_K, blockBytes: 110 }],
  [12, { name: "Q4_K", blockElems: QK_K, blockBytes: 144, dtype: "q4_k" }],
  [13, { name: "Q5_K", blockElems: QK_K, blockBytes: 176 }],
  [14, { name: "Q6_K", blockElems: QK_K, blockBytes: 210, dtype: "q6_k" }],
  [15, { name: "Q8_K", blockElems: QK_K, blockBytes: 292 }],
  [16, { name: "IQ2_XXS", blockElems: QK_K, blockBytes: 66 }],
  [17, { name: "IQ2_XS", blockElems: QK_K, blockBytes: 74 }],
  [18, { name: "IQ3_XXS", blockElems: QK_K, blockBytes: 98 }],
  [19, { name: "IQ1_S", blockElems: QK_K, blockBytes: 50 }],
  [20, { name: "IQ4_NL", blockElems: 32, blockBytes: 18 }],
  [21, { name: "IQ3_S", blockElems: QK_K, blockBytes: 110 }],
  [22, { name: "IQ2_S", blockElems: QK_K, blockBytes: 82 }],
  [23, { name: "IQ4_XS", blockElems: QK_K, blockBytes: 136 }],
  [24, { name: "I8", blockElems: 1, blockBytes: 1 }],
  [25, { name: "I16", blockElems: 1, blockBytes: 2 }],
  [26, { name: "I32", blockElems: 1, blockBytes: 4, dtype: "i32" }],
  [27, { name: "I64", blockElems: 1, blockBytes: 8, dtype: "i64" }],
  [28, { name: "F64", blockElems: 1, blockBytes: 8 }],
  [29, { name: "IQ1_M", blockElems: QK_K, blockBytes: 56 }],
  [30, { name: "BF16", blockElems: 1, blockBytes: 2, dtype: "bf16" }],
  [34, { name: "TQ1_0", blockElems: QK_K, blockBytes: 54 }],
  [35, { name: "TQ2_0", blockElems: QK_K, blockBytes: 66 }],
  [39, { name: "MXFP4", blockElems: 32, blockBytes: 17 }],
]);

/** r1ts dtype -> ggml type id, for the writer. f8 dtypes have no GGUF encoding. */
export const GGML_TYPE_OF: Readonly<Partial<Record<DType, number>>> = Object.fromEntries(
  [...GGML_TYPES].filter(([, t]) => t.dtype).map(([id, t]) => [t.dtype, id]),
);

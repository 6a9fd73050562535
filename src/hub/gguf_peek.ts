// Labels a cached GGUF in `r1 list`: general.architecture and general.file_type from its header;
// anything unreadable yields no label, never an error.

import { openGGUF } from "../formats/gguf.js";

// llama.cpp's llama_ftype values for general.file_type (the "mostly" type of the weights).
const FILE_TYPES: Record<number, string> = {
  0: "F32",
  1: "F16",
  2: "Q4_0",
  3: "Q4_1",
  7: "Q8_0",
  8: "Q5_0",
  9: "Q5_1",
  10: "Q2_K",
  11: "Q3_K_S",
  12: "Q3_K_M",
  13: "Q3_K_L",
  14: "Q4_K_S",
  15: "Q4_K_M",
  16: "Q5_K_S",
  17: "Q5_K_M",
  18: "Q6_K",
  19: "IQ2_XXS",
  20: "IQ2_XS",
  21: "Q2_K_S",
  22: "IQ3_XS",
  23: "IQ3_XXS",
  24: "IQ1_S",
  25: "IQ4_NL",
  26: "IQ3_S",
  27: "IQ3_M",
  28: "IQ2_S",
  29: "IQ2_M",
  30: "IQ4_XS",
  31: "IQ1_M",
  32: "BF16",
  36: "TQ1_0",
  37: "TQ2_0",
};

export interface GgufLabel {
  architecture?: string;
  fileType?: string;
}

/** Labels from the GGUF header (formats/gguf.ts reads only the header); an unreadable file gets no labels. */
export async function peekGguf(path: string): Promise<GgufLabel> {
  try {
    const g = openGGUF(path);
    g.close();
    const arch = g.metadata["general.architecture"];
    const ft = g.metadata["general.file_type"];
    return {
      architecture: typeof arch === "string" ? arch : undefined,
      fileType: typeof ft === "number" ? (FILE_TYPES[ft] ?? `ftype ${ft}`) : undefined,
    };
  } catch {
    return {};
  }
}

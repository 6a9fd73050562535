// The kernel backends by name: the one place a front end (CLI --kernels, server config, bench) turns a choice
// into a Kernels. "auto" is the WASM backend where its build is present and runnable, the reference otherwise.

import type { Kernels } from "./kernels.js";
import { refKernels } from "./ref.js";
import { wasmKernels } from "./wasm.js";
import { supportedVariants } from "./wasm_module.js";

export const KERNEL_BACKENDS = ["auto", "wasm", "ref"] as const;
export type KernelBackend = (typeof KERNEL_BACKENDS)[number];

export interface KernelChoice {
  backend?: KernelBackend;
  /** Threads for the WASM backend, the caller's included (default 1). */
  threads?: number;
}

export function makeKernels(c: KernelChoice = {}): Kernels {
  const b = c.backend ?? "auto";
  if (b === "ref" || (b === "auto" && supportedVariants().length === 0)) return refKernels;
  return wasmKernels({ threads: c.threads });
}

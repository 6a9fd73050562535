// Finds and compiles the AssemblyScript kernel module (build/*.wasm, made by `asc` at build time). The plain
// SIMD128 build is the default; the relaxed-SIMD build runs only when asked for (R1TS_WASM=relaxed, or the
// variant option; the conformance suite tests both). Not the default even where the runtime validates it (Node
// 22+): its Q8_0 dot moves the activation's sign onto the weight byte, and a weight byte of -128 (ggml's quantizer
// never writes one; other producers may) then flips sign, so the dot is wrong there. And where it was measured
// (Node 20 under --experimental-wasm-relaxed-simd) it was slower: Q8_0 prefill 19.2 vs 23.7 GMAC/s, Q4_K decode
// 8.4 vs 9.6 GB/s.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WA, type WasmModule } from "./wasm_api.js";

export type WasmVariant = "simd" | "relaxed";

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, "package.json"))) {
    const up = dirname(d);
    if (up === d) throw new Error("wasm kernels: package.json not found above the compiled module");
    d = up;
  }
  return d;
}

/** A file of the build folder (where `asc` writes the modules: the kernels' two builds, the trainer's GEMMs). */
export function buildPath(file: string): string {
  return join(repoRoot(), "build", file);
}

export function wasmPath(variant: WasmVariant): string {
  return buildPath(`r1ts-${variant}.wasm`);
}

/** The variants this runtime can run, the default first. */
export function supportedVariants(): WasmVariant[] {
  const out: WasmVariant[] = [];
  for (const v of ["simd", "relaxed"] as const) {
    const p = wasmPath(v);
    if (existsSync(p) && WA.validate(readFileSync(p))) out.push(v);
  }
  return out;
}

export interface CompiledKernels {
  variant: WasmVariant;
  module: WasmModule;
}

export function compileKernels(variant?: WasmVariant): CompiledKernels {
  const want = variant ?? (process.env.R1TS_WASM as WasmVariant | undefined);
  const ok = supportedVariants();
  if (ok.length === 0)
    throw new Error(
      `wasm kernels: no runnable build at ${wasmPath("simd")}; run \`npm run asbuild\` (needs WebAssembly SIMD: Node >= 16.4)`,
    );
  const pick = want ?? ok[0];
  if (!ok.includes(pick))
    throw new Error(
      `wasm kernels: the ${pick} build is missing or this runtime cannot run it (available: ${ok.join(", ")})` +
        (pick === "relaxed" ? "; Node 20 needs --experimental-wasm-relaxed-simd" : ""),
    );
  return { variant: pick, module: new WA.Module(readFileSync(wasmPath(pick))) };
}

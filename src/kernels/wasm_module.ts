// Finds and compiles the AssemblyScript kernel module (build/*.wasm, made by `asc` at build time) and picks the
// relaxed-SIMD build when this runtime validates it, the plain SIMD128 build otherwise. R1TS_WASM=simd|relaxed
// forces one (the conformance suite uses it to test both).

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

/** The variants this runtime can run, best first. */
export function supportedVariants(): WasmVariant[] {
  const out: WasmVariant[] = [];
  for (const v of ["relaxed", "simd"] as const) {
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

// Finds and compiles the AssemblyScript kernel module (build/*.wasm, made by `asc` at build time). Two builds:
// relaxed SIMD (the default wherever the runtime can run it) and plain SIMD128 (the fallback, or R1TS_WASM=simd).
// The relaxed build's decode kernels put weight bytes into the relaxed dot (one pmaddubsw, 16 multiplies) instead
// of widening both operands to i16: measured on a 2-core Xeon (Sapphire Rapids), one thread, alternating builds in
// one process, decode matvecs ran Q8_0 1.17-1.25x, Q4_K 1.32-1.57x, Q6_K 1.21-1.46x faster (before the two-row
// passes, which only the relaxed build's quantized kernels have); prefill runs the same tiles in both. Its dots are exact for every weight byte (quant_act.ts says how), so both builds give the same
// results up to float summation order.
//
// Node 20 (V8 11.3) has relaxed SIMD complete but behind --experimental-wasm-relaxed-simd (V8 11.4 shipped it, so
// Node 22+ validates the build as is). Where validation fails, the flag is set once through node:v8 (wasm features
// are read at compile time, and worker threads share the process's flags); R1TS_WASM=simd skips that.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
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

/** Whether the relaxed build runs here, turning on Node 20's flag for it unless the user chose the plain build. */
function relaxedRuns(bytes: Uint8Array): boolean {
  if (WA.validate(bytes)) return true;
  if (process.env.R1TS_WASM === "simd") return false;
  setFlagsFromString("--experimental-wasm-relaxed-simd");
  return WA.validate(bytes);
}

/** The variants this runtime can run, the default first. */
export function supportedVariants(): WasmVariant[] {
  const out: WasmVariant[] = [];
  for (const v of ["relaxed", "simd"] as const) {
    const p = wasmPath(v);
    if (!existsSync(p)) continue;
    const bytes = readFileSync(p);
    if (v === "relaxed" ? relaxedRuns(bytes) : WA.validate(bytes)) out.push(v);
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
        (pick === "relaxed" ? "; relaxed SIMD needs Node >= 20 (set R1TS_WASM=simd for the plain build)" : ""),
    );
  return { variant: pick, module: new WA.Module(readFileSync(wasmPath(pick))) };
}

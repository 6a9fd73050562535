// The WebAssembly SIMD GEMMs (gemm_wasm.ts) against the plain loops (gemm_ref.ts) on random shapes: every
// K and M tail 1..7 past a multiple of 4 and of 8, the vocabulary's 102, single rows, and N long enough for
// the weight gradient's reduction to run in several chunks. The kernels sum in f32 in another order than the
// loops (which sum the forward in f64), so each output must agree within 1e-5 of the sum of the absolute values
// of its terms (products plus the accumulated initial value): over reductions of at most ~200 terms, f32
// rounding stays orders of magnitude below that (worst case (n+1)·2^-24 per side).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as ref from "./gemm_ref.js";
import { gemmBackend, gemmNN_acc, gemmNT, gemmTN_acc } from "./gemm_wasm.js";
import { Rng } from "./rng.js";

const REL = 1e-5;
const rng = new Rng(11);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

/** [N, K, M] cases: tails, 102, tiny and tall. */
function shapes(): [number, number, number][] {
  const out: [number, number, number][] = [
    [1, 1, 1],
    [1, 102, 48],
    [37, 48, 102],
    [3, 102, 102],
    [130, 24, 12],
    [200, 160, 102],
    [1700, 48, 102],
  ];
  for (let t = 1; t <= 7; t++) out.push([5 + t, 8 + t, 16 + t], [9 - t, 4 + t, 12 - t], [t, 24 + t, 32 + (t % 4)]);
  for (let i = 0; i < 12; i++) out.push([rng.int(1, 70), rng.int(1, 40), rng.int(1, 40)]);
  return out;
}

/**
 * Asserts got ≈ want elementwise within REL · scale[i] (scale: each output's sum of |terms|); names the case.
 */
function close(got: Float32Array, want: Float32Array, scale: Float64Array, what: string): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) {
    const tol = REL * scale[i] + 1e-30;
    if (!(Math.abs(got[i] - want[i]) <= tol))
      assert.fail(`${what}: element ${i}: ${got[i]} vs reference ${want[i]} (tolerance ${tol})`);
  }
}

/** Per-output sums of |terms| for each GEMM (with |initial| for the accumulating ones). */
function scaleNT(x: Float32Array, w: Float32Array, N: number, K: number, M: number): Float64Array {
  const s = new Float64Array(N * M);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) s[n * M + m] += Math.abs(x[n * K + k] * w[m * K + k]);
  return s;
}

test("the SIMD module is the one in use (the build made it)", () => {
  assert.equal(gemmBackend, "wasm");
});

test("gemmNT, gemmNN_acc, gemmTN_acc match the reference loops on odd and tall shapes", () => {
  for (const [N, K, M] of shapes()) {
    const what = `N=${N} K=${K} M=${M}`;
    const x = rand(N * K);
    const w = rand(M * K);
    const dy = rand(N * M);

    // Forward: y is overwritten, so start it from garbage.
    const y = new Float32Array(N * M).fill(Number.NaN);
    const yRef = new Float32Array(N * M);
    gemmNT(y, x, w, N, K, M);
    ref.gemmNT(yRef, x, w, N, K, M);
    close(y, yRef, scaleNT(x, w, N, K, M), `gemmNT ${what}`);

    // Input gradient, accumulated onto existing contents.
    const dx0 = rand(N * K);
    const dx = dx0.slice();
    const dxRef = dx0.slice();
    gemmNN_acc(dx, dy, w, N, M, K);
    ref.gemmNN_acc(dxRef, dy, w, N, M, K);
    const sdx = new Float64Array(N * K);
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k++) {
        let s = Math.abs(dx0[n * K + k]);
        for (let m = 0; m < M; m++) s += Math.abs(dy[n * M + m] * w[m * K + k]);
        sdx[n * K + k] = s;
      }
    close(dx, dxRef, sdx, `gemmNN_acc ${what}`);

    // Weight gradient, accumulated onto existing contents.
    const dw0 = rand(M * K);
    const dw = dw0.slice();
    const dwRef = dw0.slice();
    gemmTN_acc(dw, dy, x, N, M, K);
    ref.gemmTN_acc(dwRef, dy, x, N, M, K);
    const sdw = new Float64Array(M * K);
    for (let m = 0; m < M; m++)
      for (let k = 0; k < K; k++) {
        let s = Math.abs(dw0[m * K + k]);
        for (let n = 0; n < N; n++) s += Math.abs(dy[n * M + m] * x[n * K + k]);
        sdw[m * K + k] = s;
      }
    close(dw, dwRef, sdw, `gemmTN_acc ${what}`);
  }
});

test("the accumulating GEMMs add to what is there: a zero gradient leaves it bit for bit", () => {
  const [N, K, M] = [9, 102, 7];
  const dx0 = rand(N * K);
  const dw0 = rand(M * K);
  const dx = dx0.slice();
  const dw = dw0.slice();
  gemmNN_acc(dx, new Float32Array(N * M), rand(M * K), N, M, K);
  gemmTN_acc(dw, new Float32Array(N * M), rand(N * K), N, M, K);
  assert.deepEqual(dx, dx0);
  assert.deepEqual(dw, dw0);
  // Twice the same gradient is the sum of both (within rounding), not the last one.
  const x = rand(N * K);
  const dy = rand(N * M);
  const once = new Float32Array(M * K);
  gemmTN_acc(once, dy, x, N, M, K);
  const twice = new Float32Array(M * K);
  gemmTN_acc(twice, dy, x, N, M, K);
  gemmTN_acc(twice, dy, x, N, M, K);
  for (let i = 0; i < once.length; i++) assert.ok(Math.abs(twice[i] - 2 * once[i]) <= 1e-5 * (1 + Math.abs(once[i])));
});

test("results are deterministic: the same call twice gives the same bits (checkpoint resume relies on it)", () => {
  const [N, K, M] = [300, 48, 102];
  const x = rand(N * K);
  const w = rand(M * K);
  const dy = rand(N * M);
  const run = () => {
    const y = new Float32Array(N * M);
    const dx = new Float32Array(N * K);
    const dw = new Float32Array(M * K);
    gemmNT(y, x, w, N, K, M);
    gemmNN_acc(dx, dy, w, N, M, K);
    gemmTN_acc(dw, dy, x, N, M, K);
    return [y, dx, dw];
  };
  assert.deepEqual(run(), run());
});

test("R1TS_TRAIN_GEMM=js falls back to the reference loops without an error", () => {
  const mod = fileURLToPath(new URL("./gemm_wasm.js", import.meta.url));
  const r = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", `const m = await import(${JSON.stringify(mod)}); console.log(m.gemmBackend);`],
    { encoding: "utf8", env: { ...process.env, R1TS_TRAIN_GEMM: "js" } },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "js");
});

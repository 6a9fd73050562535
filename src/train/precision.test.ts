import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { E4M3_LUT, f32ToE4M3 } from "../core/dtype.js";
import { linear, Param, Tape, Var } from "./autograd.js";
import { trainWasm } from "./gemm_wasm.js";
import { type Fp8Gemm, quantCols, quantColsRef, quantRows, quantRowsRef, roundE4M3 } from "./precision.js";
import { Rng } from "./rng.js";

describe("FP8 emulation", () => {
  it("roundE4M3 agrees with the export's encoder on random values, every tie and both saturations", () => {
    const rng = new Rng(3);
    const vals: number[] = [0, 448, -448, 500, -1e6, 2 ** -10, 2 ** -6, 2 ** -9, 3 * 2 ** -10];
    for (let i = 0; i < 20000; i++) vals.push((rng.next() < 0.5 ? -1 : 1) * 2 ** (rng.next() * 20 - 11));
    // Midpoints between neighbouring E4M3 values: ties to even, the case a rounding shortcut gets wrong.
    const pos = [...E4M3_LUT.slice(0, 0x7f)];
    for (let i = 0; i + 1 < pos.length; i++) vals.push((pos[i] + pos[i + 1]) / 2, -(pos[i] + pos[i + 1]) / 2);
    for (const v of vals) {
      const f = Math.fround(v);
      assert.equal(roundE4M3(f), E4M3_LUT[f32ToE4M3(f)], `roundE4M3(${f})`);
    }
  });

  /** y = x·Wᵀ and its two gradients for loss sum(y * r), under the given FP8 GEMM set (undefined: f32). */
  function run(gemms: Fp8Gemm[] | undefined) {
    const rng = new Rng(11);
    const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const [N, K, M] = [5, 40, 24];
    const x = new Var(rand(N * K));
    const w = new Param("w", [M, K], rand(M * K));
    const r = rand(N * M);
    const tape = new Tape();
    const y = linear(tape, x, w, N, gemms ? { fp8: true, fp8Gemms: gemms } : { fp8: false });
    const loss = new Var(new Float32Array(1));
    tape.push(() => {
      const g = y.g();
      for (let i = 0; i < g.length; i++) g[i] += loss.g()[0] * r[i];
    });
    tape.backward(loss);
    return { y: y.data, dx: x.g(), dw: w.g() };
  }

  it("fp8Gemms quantizes exactly the named GEMMs of a Linear layer", () => {
    const f32 = run(undefined);
    const all = run(["forward", "dgrad", "wgrad"]);
    const cases: [Fp8Gemm, "y" | "dx" | "dw"][] = [
      ["forward", "y"],
      ["dgrad", "dx"],
      ["wgrad", "dw"],
    ];
    for (const [g, out] of cases) {
      const only = run([g]);
      for (const o of ["y", "dx", "dw"] as const) {
        if (o === out) {
          assert.notDeepEqual(only[o], f32[o], `${g} changes ${o}`);
          assert.deepEqual(only[o], all[o], `${g} alone quantizes ${o} as the full recipe does`);
        } else assert.deepEqual(only[o], f32[o], `${g} leaves ${o} in f32`);
      }
    }
  });

  it("the wasm quantize-dequantize passes are bit for bit the reference loops", () => {
    assert.ok(trainWasm, "build/r1ts-train.wasm is missing");
    assert.notEqual(quantRows, quantRowsRef);
    const rng = new Rng(3);
    // Zeros, values far below a tile's amax (E4M3's subnormal steps), all-tiny tiles (the 1e-4 scale floor),
    // exact ties and large values, over shapes with tails past multiples of 4 and of the 128 tile.
    const sample = () => {
      const r = rng.next();
      if (r < 0.05) return 0;
      if (r < 0.15) return rng.normal() * 1e-6;
      if (r < 0.2) return (rng.int(0, 64) / 512) * (rng.next() < 0.5 ? -1 : 1);
      return rng.normal() * Math.exp(rng.normal() * 4);
    };
    for (const [N, K] of [
      [1, 1],
      [3, 130],
      [257, 48],
      [300, 102],
      [8, 7],
      [129, 5],
    ]) {
      const x = Float32Array.from({ length: N * K }, sample);
      for (const [name, fast, ref] of [
        ["quantRows", quantRows, quantRowsRef],
        ["quantCols", quantCols, quantColsRef],
      ] as const) {
        const a = fast(x, N, K);
        const b = ref(x, N, K);
        for (let i = 0; i < a.length; i++)
          if (!Object.is(a[i], b[i])) assert.fail(`${name} ${N}x${K}: element ${i}: ${a[i]} vs reference ${b[i]}`);
      }
    }
    // Exact ties: every row and column tile holds a 448 (its scale is exactly 1), the rest are midpoints
    // between neighbouring E4M3 values, (1 + (2j + 1) / 16) * 2^e, which must round to the even neighbour.
    const [N, K] = [130, 131];
    const x = new Float32Array(N * K);
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k++) {
        const edge = n === 0 || n === 128 || k === 0 || k === 128;
        const mid = (1 + (2 * rng.int(0, 7) + 1) / 16) * 2 ** rng.int(-6, 7);
        x[n * K + k] = edge ? 448 : rng.next() < 0.5 ? -mid : mid;
      }
    assert.deepEqual(quantRows(x, N, K), quantRowsRef(x, N, K));
    assert.deepEqual(quantCols(x, N, K), quantColsRef(x, N, K));
    assert.notDeepEqual(quantRowsRef(x, N, K), x, "the ties moved");
  });
});

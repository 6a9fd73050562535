// Every kernel of every backend against ref.ts (the spec) over all weight dtypes and odd shapes. Float-weight
// kernels must agree to f32 rounding; quantized-weight kernels quantize activations to Q8 blocks on the fly, so
// they must agree within the bound that quantization implies, computed per output from the inputs:
// |Δ| <= Σ_blocks (d_b / 2) Σ_{i in block} |w_i|, d_b = amax_b / 127 (the activation rounding error).

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type DType, f32ToBf16, f32ToE4M3, f32ToF16, rowBytes } from "../src/core/dtype.js";
import { quantizeRow } from "../src/core/quant/ggml.js";
import type { Kernels } from "../src/kernels/kernels.js";
import { refKernels } from "../src/kernels/ref.js";
import { type WasmKernels, wasmKernels } from "../src/kernels/wasm.js";
import { supportedVariants } from "../src/kernels/wasm_module.js";
import { decodeRow, rowRange, type Weight } from "../src/kernels/weight.js";

// ---- deterministic inputs ------------------------------------------------------------------------------------

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

const FP8_SCALE_ROWS = 128;

/** A [rows, cols] weight of `dtype` built from random f32 values, via the project's own encoders. */
function makeWeight(dtype: DType, rows: number, cols: number, seed: number, alloc?: (n: number) => Uint8Array): Weight {
  const f = randn(rows * cols, seed);
  const stride = rowBytes(dtype, cols);
  const bytes = alloc ? alloc(stride * rows) : new Uint8Array(stride * rows);
  const w: Weight = { dtype, rows, cols, bytes, rowStride: stride };
  for (let r = 0; r < rows; r++) {
    const src = f.subarray(r * cols, (r + 1) * cols);
    const dst = bytes.subarray(r * stride, (r + 1) * stride);
    const dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
    switch (dtype) {
      case "f32":
        for (let c = 0; c < cols; c++) dv.setFloat32(c * 4, src[c], true);
        break;
      case "bf16":
        for (let c = 0; c < cols; c++) dv.setUint16(c * 2, f32ToBf16(src[c]), true);
        break;
      case "f16":
        for (let c = 0; c < cols; c++) dv.setUint16(c * 2, f32ToF16(src[c]), true);
        break;
      case "f8_e4m3":
        for (let c = 0; c < cols; c++) dst[c] = f32ToE4M3(src[c] * 300);
        break;
      case "f8_e5m2":
        for (let c = 0; c < cols; c++) dst[c] = f32ToF16(src[c]) >>> 8;
        break;
      default:
        quantizeRow(dtype, src, dst);
    }
  }
  if (dtype === "f8_e4m3")
    w.scale = randn(Math.ceil(rows / FP8_SCALE_ROWS) * Math.ceil(cols / 128), seed + 1, 0.01).map(
      (v) => Math.abs(v) + 1e-3,
    );
  return w;
}

const QUANT = new Set<DType>(["q8_0", "q4_0", "q4_k", "q6_k"]);

/** Per-output tolerance: f32 rounding, plus the activation-quantization bound for quantized weights. */
function tolerance(w: Weight, x: Float32Array, T: number): Float64Array {
  const tol = new Float64Array(T * w.rows);
  const row = new Float32Array(w.cols);
  for (let r = 0; r < w.rows; r++) {
    decodeRow(w, r, row);
    for (let t = 0; t < T; t++) {
      let mag = 0;
      let q = 0;
      for (let b = 0; b < w.cols; b += 32) {
        let amax = 0;
        let wsum = 0;
        for (let i = b; i < Math.min(w.cols, b + 32); i++) {
          amax = Math.max(amax, Math.abs(x[t * w.cols + i]));
          wsum += Math.abs(row[i]);
          mag += Math.abs(row[i] * x[t * w.cols + i]);
        }
        q += (amax / 127 / 2) * wsum;
      }
      tol[t * w.rows + r] = 2e-6 * mag + 1e-6 + (QUANT.has(w.dtype) ? q * 1.01 : 0);
    }
  }
  return tol;
}

function checkMatmul(k: Kernels, w: Weight, T: number, seed: number): void {
  const x = randn(T * w.cols, seed);
  const want = new Float32Array(T * w.rows);
  const got = new Float32Array(T * w.rows).fill(Number.NaN);
  refKernels.matmul(want, x, w, T);
  k.matmul(got, x, w, T);
  const tol = tolerance(w, x, T);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tol[i]))
      assert.fail(
        `${k.name} ${w.dtype} [${w.rows}x${w.cols}] T=${T}: out[${i}] ${got[i]} vs ${want[i]} (|Δ| ${d} > ${tol[i]})`,
      );
  }
}

function close(got: Float32Array, want: Float32Array, what: string, rel = 1e-5): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= rel * (1 + Math.abs(want[i])))) assert.fail(`${what}: [${i}] ${got[i]} vs ${want[i]}`);
  }
}

// ---- backends --------------------------------------------------------------------------------------------------

interface Backend {
  label: string;
  make?: () => WasmKernels;
  skip?: string;
}

const variants = supportedVariants();
// Not the default order: the plain build first, so a relaxed-only failure reads as one.
const BACKENDS: Backend[] = [
  { label: "wasm simd, 1 thread", make: () => wasmKernels({ threads: 1, variant: "simd", scratchBytes: 16 << 20 }) },
  { label: "wasm simd, 2 threads", make: () => wasmKernels({ threads: 2, variant: "simd", scratchBytes: 16 << 20 }) },
  variants.includes("relaxed")
    ? {
        label: "wasm relaxed, 2 threads",
        make: () => wasmKernels({ threads: 2, variant: "relaxed", scratchBytes: 16 << 20 }),
      }
    : {
        label: "wasm relaxed",
        skip: "this runtime does not run relaxed SIMD (Node < 20, or R1TS_WASM=simd kept its flag off)",
      },
];

const FLOAT_SHAPES: [number, number][] = [
  [1, 37],
  [7, 300],
  [130, 129],
  [3, 1024],
];
const Q32_SHAPES: [number, number][] = [
  [1, 32],
  [7, 96],
  [130, 512],
];
const K_SHAPES: [number, number][] = [
  [1, 256],
  [9, 768],
  [67, 512],
];

const SHAPES: Partial<Record<DType, [number, number][]>> = {
  f32: FLOAT_SHAPES,
  bf16: FLOAT_SHAPES,
  f16: FLOAT_SHAPES,
  f8_e4m3: [...FLOAT_SHAPES, [300, 260]],
  f8_e5m2: FLOAT_SHAPES,
  q8_0: Q32_SHAPES,
  q4_0: Q32_SHAPES,
  q4_k: K_SHAPES,
  q6_k: K_SHAPES,
};

for (const b of BACKENDS) {
  describe(`kernels conformance: ${b.label}`, { skip: b.skip }, () => {
    const k = b.make ? b.make() : undefined;
    after(() => k?.close());
    if (!k) return;

    for (const [dtype, shapes] of Object.entries(SHAPES) as [DType, [number, number][]][]) {
      test(`matmul ${dtype}`, () => {
        let seed = 1;
        for (const [rows, cols] of shapes)
          for (const T of [1, 3, 5]) checkMatmul(k, makeWeight(dtype, rows, cols, seed++), T, seed++);
      });
    }

    test("matmul on weights allocated in the arena (no copy) and on row views", () => {
      for (const dtype of ["q8_0", "q4_k", "bf16", "f8_e4m3"] as DType[]) {
        const cols = dtype === "q4_k" ? 512 : 256;
        const w = makeWeight(dtype, 260, cols, 7, (n) => k.alloc(n));
        const before: number = k.memoryStats().bytes;
        checkMatmul(k, w, 2, 8);
        checkMatmul(k, rowRange(w, 129, 100), 1, 9);
        assert.equal(k.memoryStats().bytes, before, "an arena weight must be used in place");
      }
    });

    test("Q8_0 prefill tile: column chunks, a lone row, tokens past the last group of four", () => {
      // 2112 columns: one 2048-column chunk plus a 64-column one added into out (prefill_q8.ts KC); 37 rows: a
      // lone last row; T = 33: eight groups of four tokens plus one token on the decode path, and enough work
      // that quantize_rows splits the tokens across threads mid-group (each writes its own interleaved lanes).
      const w = makeWeight("q8_0", 37, 2112, 31);
      for (const T of [4, 33]) checkMatmul(k, w, T, 32 + T);
      // Any split of the rows gives the same bits: a row view and a two-weight job against the whole matmul.
      const x = randn(33 * 2112, 40);
      const whole = new Float32Array(33 * 37);
      k.matmul(whole, x, w, 33);
      const part = new Float32Array(33 * 20);
      k.matmul(part, x, rowRange(w, 17, 20), 33);
      const two = [new Float32Array(33 * 37), new Float32Array(33 * 20)];
      k.matmulMany(two, x, [w, rowRange(w, 17, 20)], 33);
      for (let t = 0; t < 33; t++) {
        const a = whole.subarray(t * 37 + 17, t * 37 + 37);
        assert.deepEqual(part.subarray(t * 20, (t + 1) * 20), a, `row view, token ${t}`);
        assert.deepEqual(two[1].subarray(t * 20, (t + 1) * 20), a, `matmulMany, token ${t}`);
      }
      assert.deepEqual(two[0], whole);
    });

    test("matmulMany: one job over several weights equals their matmuls, and the reference", () => {
      const cases: [DType[], number, number[]][] = [
        [["q8_0", "q8_0", "q8_0"], 96, [64, 32, 32]], // q/k/v
        [["q4_k", "q6_k"], 512, [67, 9]],
        [["bf16", "f16", "f32"], 130, [7, 130, 1]],
        [["q8_0", "bf16"], 256, [5, 6]], // mixed: falls back to one matmul each
        [["f8_e4m3", "f8_e4m3"], 260, [130, 3]], // FP8: its own path
      ];
      let seed = 100;
      for (const [dtypes, cols, rows] of cases)
        for (const T of [1, 3, 5]) {
          const ws = dtypes.map((d, j) => makeWeight(d, rows[j], cols, seed++));
          const x = randn(T * cols, seed++);
          const outs = ws.map((w) => new Float32Array(T * w.rows).fill(Number.NaN));
          k.matmulMany(outs, x, ws, T);
          ws.forEach((w, j) => {
            const one = new Float32Array(T * w.rows);
            k.matmul(one, x, w, T);
            assert.deepEqual(outs[j], one, `${dtypes} T=${T}: weight ${j} differs from its own matmul`);
            const want = new Float32Array(T * w.rows);
            refKernels.matmul(want, x, w, T);
            const tol = tolerance(w, x, T);
            for (let i = 0; i < want.length; i++)
              if (!(Math.abs(outs[j][i] - want[i]) <= tol[i])) assert.fail(`${dtypes} T=${T} weight ${j} [${i}]`);
          });
        }
    });

    test("ffn: gate/up, swiglu and down in wasm equal the composed ops, and the reference", () => {
      let seed = 200;
      for (const [dtype, hidden, inter] of [
        ["q8_0", 64, 96],
        ["q4_k", 256, 512],
        ["bf16", 40, 24],
        ["f8_e4m3", 130, 260],
      ] as [DType, number, number][])
        for (const T of [1, 2, 6]) {
          const w = {
            gate: makeWeight(dtype, inter, hidden, seed++),
            up: makeWeight(dtype, inter, hidden, seed++),
            down: makeWeight(dtype, hidden, inter, seed++),
          };
          const h = randn(T * hidden, seed++, 0.2);
          const got = new Float32Array(T * hidden).fill(Number.NaN);
          k.ffn(got, h, w, T);
          const g = new Float32Array(T * inter);
          const u = new Float32Array(T * inter);
          const parts = new Float32Array(T * hidden);
          k.matmul(g, h, w.gate, T);
          k.matmul(u, h, w.up, T);
          k.swiglu(g, g, u, T * inter);
          k.matmul(parts, g, w.down, T);
          assert.deepEqual(got, parts, `${dtype} T=${T}: ffn differs from its parts`);
          const want = new Float32Array(T * hidden);
          refKernels.ffn(want, h, w, T);
          let scale = 0;
          for (const v of want) scale = Math.max(scale, Math.abs(v));
          // Two matmuls of quantized activations in a row: a loose, scale-relative bound (the matmul tests are exact).
          close(got, want, `${dtype} T=${T}: ffn vs reference`, QUANT.has(dtype) ? 0.05 * scale : 1e-4 * scale);
        }
    });

    test("swiglu over the whole input range (the wasm exp saturates, never overflows)", () => {
      const n = 4003;
      const gate = Float32Array.from({ length: n }, (_, i) => -120 + (240 * i) / (n - 1));
      const up = randn(n, 31);
      const want = new Float32Array(n);
      const got = new Float32Array(n);
      refKernels.swiglu(want, gate, up, n);
      k.swiglu(got, gate, up, n);
      close(got, want, "swiglu", 1e-6);
    });

    test("large matmul split across threads", () => {
      checkMatmul(k, makeWeight("q8_0", 1000, 1536, 3), 1, 4);
      checkMatmul(k, makeWeight("bf16", 999, 768, 5), 2, 6);
    });

    test("rmsnorm, rope (both layouts), swiglu", () => {
      const T = 3;
      const dim = 20;
      const x = randn(T * dim, 11);
      const g = randn(dim, 12);
      const a = new Float32Array(T * dim);
      const b2 = new Float32Array(T * dim);
      refKernels.rmsnorm(a, x, g, T, dim, 1e-6);
      k.rmsnorm(b2, x, g, T, dim, 1e-6);
      close(b2, a, "rmsnorm");
      for (const inter of [false, true]) {
        const cos = randn(T * 4, 13);
        const sin = randn(T * 4, 14);
        const y1 = randn(T * 2 * 10, 15);
        const y2 = y1.slice();
        refKernels.rope(y1, T, 2, 10, 2, 8, cos, sin, inter);
        k.rope(y2, T, 2, 10, 2, 8, cos, sin, inter);
        close(y2, y1, `rope interleaved=${inter}`);
      }
      const gate = randn(50, 16, 5);
      const up = randn(50, 17);
      refKernels.swiglu(a, gate, up, 50);
      k.swiglu(b2, gate, up, 50);
      close(b2.subarray(0, 50), a.subarray(0, 50), "swiglu");
    });

    test("attention (GQA, causal, over a cache)", () => {
      for (const [T, pos0, nHeads, nKv, hd] of [
        [1, 0, 2, 1, 8],
        [1, 9, 4, 2, 12],
        [5, 3, 6, 2, 10],
        [4, 0, 12, 2, 128],
        [1, 40, 7, 1, 20], // an odd group (one head unpaired) and a head size that is no multiple of 16
        [2, 30, 12, 2, 64],
        [1, 5, 4, 2, 6], // a head size that is no multiple of 4: no pairing
      ]) {
        const ctx = pos0 + T + 2;
        const q = randn(T * nHeads * hd, 21);
        const kc = randn(ctx * nKv * hd, 22);
        const vc = randn(ctx * nKv * hd, 23);
        const a = new Float32Array(T * nHeads * hd);
        const b2 = new Float32Array(T * nHeads * hd);
        refKernels.attention(a, q, kc, vc, T, pos0, nHeads, nKv, hd, 1 / Math.sqrt(hd));
        k.attention(b2, q, kc, vc, T, pos0, nHeads, nKv, hd, 1 / Math.sqrt(hd));
        close(b2, a, `attention T=${T} pos0=${pos0} H=${nHeads}/${nKv} hd=${hd}`, 2e-5);
      }
    });

    test("MLA attention (absorbed)", () => {
      for (const [T, pos0, H, rank, rd] of [
        [1, 0, 2, 16, 8],
        [3, 4, 4, 30, 6],
      ]) {
        const ctx = pos0 + T;
        const ql = randn(T * H * rank, 31);
        const qp = randn(T * H * rd, 32);
        const c = randn(ctx * rank, 33);
        const pe = randn(ctx * rd, 34);
        const a = new Float32Array(T * H * rank);
        const b2 = new Float32Array(T * H * rank);
        refKernels.mlaAttention(a, ql, qp, c, pe, T, pos0, H, rank, rd, 0.2);
        k.mlaAttention(b2, ql, qp, c, pe, T, pos0, H, rank, rd, 0.2);
        close(b2, a, `mla T=${T} pos0=${pos0}`, 2e-5);
      }
    });
  });
}

/** Q8_0 weights holding every byte value, a whole block of -128 first. */
function everyByteQ8(rows: number, cols: number): Weight {
  const stride = rowBytes("q8_0", cols);
  const bytes = new Uint8Array(rows * stride);
  const dv = new DataView(bytes.buffer);
  for (let r = 0; r < rows; r++)
    for (let b = 0; b < cols / 32; b++) {
      const o = r * stride + b * 34;
      dv.setUint16(o, f32ToF16(0.01 * (1 + ((r + b) % 3))), true);
      for (let i = 0; i < 32; i++) bytes[o + 2 + i] = r === 0 && b === 0 ? 0x80 : (r * 97 + b * 32 + i * 7) & 255;
    }
  return { dtype: "q8_0", rows, cols, bytes, rowStride: stride };
}

// Both builds compute each block's (Q8_0) or sub-block's (k-quants) integer dot exactly, then the same float
// steps, so their outputs are equal bit for bit. That catches what a tolerance hides: ggml's quantizer never
// writes a Q8_0 byte of -128, but the format allows it, and the relaxed build's first Q8_0 dot moved the
// activation's sign onto the weight byte, where -(-128) wraps (a few such bytes sit inside the reference
// tolerance). Activation blocks reach +-127 in both signs; T = 1 is the decode loop, T = 5 the prefill tiles.
describe("relaxed and plain builds agree bit for bit", {
  skip: variants.includes("relaxed") ? undefined : "no relaxed SIMD here",
}, () => {
  test("Q8_0 with every weight byte (-128 included), Q4_K, Q6_K", () => {
    const plain = wasmKernels({ threads: 1, variant: "simd", scratchBytes: 4 << 20 });
    const relaxed = wasmKernels({ threads: 2, variant: "relaxed", scratchBytes: 4 << 20 });
    try {
      const ws = [everyByteQ8(24, 256), makeWeight("q4_k", 24, 512, 5), makeWeight("q6_k", 24, 512, 6)];
      for (const w of ws)
        for (const T of [1, 5]) {
          const x = randn(T * w.cols, 77 + T);
          for (let i = 0; i < T * w.cols; i += 32) x[i + (i % 5)] = i % 64 ? -4 : 4; // each block's amax
          const a = new Float32Array(T * w.rows);
          const b = new Float32Array(T * w.rows);
          plain.matmul(a, x, w, T);
          relaxed.matmul(b, x, w, T);
          assert.deepEqual(b, a, `${w.dtype} T=${T}`);
        }
    } finally {
      plain.close();
      relaxed.close();
    }
  });
});

// Relaxed SIMD is the default wherever it runs (src/kernels/wasm_module.ts turns on Node 20's flag for it), and
// R1TS_WASM=simd still picks the plain build.
test("the relaxed build is the default where it runs, R1TS_WASM=simd picks the plain one", () => {
  const saved = process.env.R1TS_WASM;
  try {
    delete process.env.R1TS_WASM;
    assert.deepEqual(supportedVariants(), ["relaxed", "simd"], "Node >= 20 runs both builds");
    const k = wasmKernels({ threads: 1, scratchBytes: 1 << 20 });
    assert.equal(k.variant, "relaxed");
    k.close();
    process.env.R1TS_WASM = "simd";
    const p = wasmKernels({ threads: 1, scratchBytes: 1 << 20 });
    assert.equal(p.variant, "simd");
    p.close();
  } finally {
    if (saved === undefined) delete process.env.R1TS_WASM;
    else process.env.R1TS_WASM = saved;
  }
});

describe("wasm arenas", () => {
  test("weights spread over several arenas, each under its limit, all usable", () => {
    const k = wasmKernels({ threads: 2, variant: "simd", scratchBytes: 1 << 20, arenaBytes: 3 << 20 });
    try {
      const ws = Array.from({ length: 6 }, (_, i) => makeWeight("q8_0", 1024, 1024, 40 + i, (n) => k.alloc(n)));
      assert.ok(k.memoryStats().arenas >= 3, `expected several arenas, got ${k.memoryStats().arenas}`);
      for (const [i, w] of ws.entries()) checkMatmul(k, w, 2, 50 + i);
    } finally {
      k.close();
    }
  });

  test("KV caches in an arena: attention over them matches the reference, and a collected cache's region is reused", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const k = wasmKernels({ threads: 2, variant: "simd", scratchBytes: 1 << 20 });
    try {
      const [T, pos0, nHeads, nKv, hd] = [2, 5, 4, 2, 16];
      const n = (pos0 + T) * nKv * hd;
      const kc = k.allocCache(n);
      const vc = k.allocCache(n);
      assert.ok(kc.every((v) => v === 0) && vc.every((v) => v === 0), "a new cache is zeroed");
      kc.set(randn(n, 61));
      vc.set(randn(n, 62));
      const q = randn(T * nHeads * hd, 63);
      const want = new Float32Array(T * nHeads * hd);
      const got = new Float32Array(T * nHeads * hd);
      refKernels.attention(want, q, kc, vc, T, pos0, nHeads, nKv, hd, 0.25);
      k.attention(got, q, kc, vc, T, pos0, nHeads, nKv, hd, 0.25);
      close(got, want, "attention over arena caches");
      const used = k.memoryStats().bytes;
      const churn = () => {
        for (let i = 0; i < 4; i++) k.allocCache(n)[0] = 1; // dropped at once
      };
      churn();
      let grew = 0;
      for (let round = 0; round < 20; round++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
        const before = k.memoryStats().bytes;
        churn();
        grew = k.memoryStats().bytes - before;
        if (grew === 0) break;
      }
      assert.equal(grew, 0, "caches allocated after a collection must reuse the collected regions");
      assert.ok(k.memoryStats().bytes <= used + 4 * n * 4 + 4096);
      const again = k.allocCache(n);
      assert.ok(
        again.every((v) => v === 0),
        "a reused cache is zeroed",
      );
    } finally {
      k.close();
    }
  });
});

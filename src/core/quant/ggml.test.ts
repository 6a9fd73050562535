import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BLOCK_LAYOUT, type DType, f16ToF32, rowBytes } from "../dtype.js";
import { dequantizeRow, quantizeRow, scaleMinK4 } from "./ggml.js";

/** mulberry32, the same generator the ggml goldens below were made with. */
function rng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

function decode(dtype: DType, bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  dequantizeRow(dtype, bytes, out, n);
  return out;
}

function encode(dtype: DType, x: Float32Array): Uint8Array {
  const out = new Uint8Array(rowBytes(dtype, x.length));
  quantizeRow(dtype, x, out);
  return out;
}

describe("dequantizeRow: hand-built blocks", () => {
  it("q8_0: x = d * int8", () => {
    const b = new Uint8Array(34);
    b.set([0x00, 0x38]); // d = 0.5
    b.set([1, 0xfe, 0x7f, 0x80], 2); // 1, -2, 127, -128
    const y = decode("q8_0", b, 32);
    assert.deepEqual(Array.from(y.slice(0, 5)), [0.5, -1, 63.5, -64, 0]);
  });

  it("q4_0: low nibbles are elements 0..15, high nibbles 16..31, x = d * (q - 8)", () => {
    const b = new Uint8Array(18);
    b.set([0x00, 0x40]); // d = 2
    b[2] = 0x1f;
    b[3] = 0x88;
    const y = decode("q4_0", b, 32);
    assert.equal(y[0], 14);
    assert.equal(y[16], -14);
    assert.equal(y[1], 0);
    assert.equal(y[17], 0);
    assert.equal(y[2], -16);
    assert.equal(y[31], -16);
  });

  it("q4_k: 6-bit scales and mins, including the packed high bits of sub-blocks 4..7", () => {
    const b = new Uint8Array(144);
    b.set([0x00, 0x3c, 0x00, 0x38]); // d = 1, dmin = 0.5
    b.set([0x41, 2, 3, 4, 5, 6, 7, 0x88, 0x21, 0x43, 0x65, 0x87], 4);
    // (sc, m) per sub-block, worked out by hand from the bytes above.
    const expected = [
      [1, 5],
      [2, 6],
      [3, 7],
      [4, 8],
      [17, 2],
      [3, 4],
      [5, 6],
      [7, 40],
    ];
    for (let j = 0; j < 8; j++) assert.deepEqual(scaleMinK4(b, 4, j), expected[j], `sub-block ${j}`);
    b[16 + 0] = 0x3a; // element 0 = 10 (sub-block 0), element 32 = 3 (sub-block 1)
    b[16 + 64] = 0x03; // element 128 = 3 (sub-block 4), element 160 = 0 (sub-block 5)
    b[16 + 127] = 0xf0; // element 223 = 0 (sub-block 6), element 255 = 15 (sub-block 7)
    const y = decode("q4_k", b, 256);
    assert.equal(y[0], 7.5); // 1*10 - 0.5*5
    assert.equal(y[1], -2.5); // 1*0 - 0.5*5
    assert.equal(y[32], 3); // 2*3 - 0.5*6
    assert.equal(y[128], 50); // 17*3 - 0.5*2
    assert.equal(y[160], -2); // 3*0 - 0.5*4
    assert.equal(y[223], -3); // 5*0 - 0.5*6
    assert.equal(y[255], 85); // 7*15 - 0.5*40
  });

  it("q6_k: 4 low bits from ql, 2 high bits from qh, signed 8-bit sub-scales", () => {
    const b = new Uint8Array(210);
    b.set([0x00, 0x38], 208); // d = 0.5
    b[192 + 0] = 2;
    b[192 + 2] = 0xfd; // -3
    b[192 + 4] = 4;
    b[192 + 6] = 0xff; // -1
    b[192 + 8] = 10;
    b[0] = 0x5a;
    b[32] = 0x71;
    b[128] = 0xe4; // qh[0]: bits 0-1 = 0, 2-3 = 1, 4-5 = 2, 6-7 = 3
    b[64] = 0x0f; // second half: ql[0]
    b[160] = 0x03; // second half: qh[0]
    const y = decode("q6_k", b, 256);
    assert.equal(y[0], -22); // 0.5*2*((10 | 0<<4) - 32)
    assert.equal(y[32], 22.5); // 0.5*-3*((1 | 1<<4) - 32)
    assert.equal(y[64], 10); // 0.5*4*((5 | 2<<4) - 32)
    assert.equal(y[96], -11.5); // 0.5*-1*((7 | 3<<4) - 32)
    assert.equal(y[1], -32); // 0.5*2*(0 - 32)
    assert.ok(y[16] === 0, `${y[16]}`); // sub-scale 1 is 0 (ggml gives -0 here too: 0 * -32)
    assert.equal(y[128], 155); // 0.5*10*((15 | 3<<4) - 32)
  });

  it("rejects lengths that are not whole blocks", () => {
    assert.throws(() => dequantizeRow("q8_0", new Uint8Array(34), new Float32Array(40), 40), /multiple/);
    assert.throws(() => dequantizeRow("f32", new Uint8Array(4), new Float32Array(1), 1), /not a block-quantized/);
  });
});

describe("quantizeRow: ggml's reference rounding", () => {
  it("q8_0: d = amax/127 stored as f16, q = round(x/d)", () => {
    const x = Float32Array.from({ length: 32 }, (_, i) => i);
    const b = encode("q8_0", x);
    assert.deepEqual([b[0], b[1]], [0xd0, 0x33]); // f16(31/127) = 0.244140625
    assert.deepEqual([b[2 + 1], b[2 + 3], b[2 + 16], b[2 + 31]], [4, 12, 66, 127]);
    const neg = encode(
      "q8_0",
      x.map((v) => -v),
    );
    assert.equal(neg[2 + 31], 0x81); // -127
  });

  it("q4_0: d = signed max / -8, q = min(15, trunc(x/d + 8.5))", () => {
    const x = new Float32Array(32);
    x.set([-8, 7.9, 0.5, -0.5, 1.5, 2.5, -2.5]);
    const b = encode("q4_0", x);
    assert.deepEqual([b[0], b[1]], [0x00, 0x3c]); // d = 1
    assert.equal(b[2], 0x80); // element 0 -> 0, element 16 (x = 0) -> 8
    const y = decode("q4_0", b, 32);
    // 7.9 clamps to 7; halves round up (0.5 -> 1, -0.5 -> 0, -2.5 -> -2).
    assert.deepEqual(Array.from(y.slice(0, 8)), [-8, 7, 1, 0, 2, 3, -2, 0]);
  });
});

// Goldens from ggml itself: libggml-base of llama.cpp v0.5.0 (the build in node-llama-cpp 3.22.1), calling
// dequantize_row_* on these seeded random blocks and quantize_row_{q8_0,q4_0}_ref on the seeded row;
// FNV-1a of the raw output bytes, so every element must match to the bit.
describe("bit-exact against ggml", () => {
  const golden: Record<string, { dequant: string; first: number[]; quant?: string }> = {
    q8_0: { dequant: "4e1f1c74", first: [-0.28729248046875, -3.73480224609375], quant: "86f54ed9" },
    q4_0: { dequant: "6108fb74", first: [0.055389404296875, -0.166168212890625], quant: "59913869" },
    q4_k: { dequant: "27b8aec5", first: [0.8920135498046875, 0.476593017578125] },
    q6_k: { dequant: "403533f7", first: [-92.8802490234375, 46.44012451171875] },
  };

  function randomBlocks(dtype: DType, nBlocks: number, seed: number): Uint8Array {
    const r = rng(seed);
    const bb = BLOCK_LAYOUT[dtype]!.bytes;
    const q = new Uint8Array(nBlocks * bb);
    for (let i = 0; i < q.length; i++) q[i] = Math.floor(r() * 256);
    // Random bytes in an f16 scale are often inf/NaN; put sane halves (about 2^-6..2^-4) there.
    const half = (signed: boolean) => (signed && r() < 0.5 ? 0x8000 : 0) | (0x2400 + Math.floor(r() * 0xc00));
    const put = (o: number, h: number) => q.set([h & 0xff, h >> 8], o);
    for (let b = 0; b < nBlocks; b++) {
      const o = b * bb;
      if (dtype !== "q6_k") put(o, half(true));
      if (dtype === "q4_k") put(o + 2, half(false));
      if (dtype === "q6_k") put(o + 208, half(true));
    }
    return q;
  }

  for (const [dtype, g] of Object.entries(golden) as [DType, (typeof golden)[string]][]) {
    it(`${dtype}`, () => {
      const n = 512;
      const y = decode(dtype, randomBlocks(dtype, n / BLOCK_LAYOUT[dtype]!.elems, 7), n);
      assert.deepEqual(Array.from(y.slice(0, 2)), g.first);
      assert.equal(fnv1a(new Uint8Array(y.buffer)), g.dequant);
      if (g.quant) {
        const r = rng(11);
        const x = Float32Array.from({ length: n }, (_, i) => (r() - 0.5) * (i % 64 === 5 ? 21 : 1));
        assert.equal(fnv1a(encode(dtype, x)), g.quant);
      }
    });
  }
});

describe("round trip error stays within the format's resolution", () => {
  const r = rng(3);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  // Blocks of four different magnitudes, so super-block and sub-block scales both matter.
  const x = Float32Array.from({ length: 4096 }, (_, i) => gauss() * (1 + ((i >> 8) % 4)));

  /** Element i's quantization step as stored in the block (d for q8_0/q4_0, d*sc for k-quants). */
  function step(dtype: DType, q: Uint8Array, i: number): number {
    const h = (o: number) => f16ToF32(q[o] | (q[o + 1] << 8));
    if (dtype === "q8_0") return Math.abs(h(Math.floor(i / 32) * 34));
    if (dtype === "q4_0") return Math.abs(h(Math.floor(i / 32) * 18));
    const o = Math.floor(i / 256) * BLOCK_LAYOUT[dtype]!.bytes;
    if (dtype === "q4_k") return h(o) * scaleMinK4(q, o + 4, (i % 256) >> 5)[0];
    return Math.abs(h(o + 208) * ((q[o + 192 + ((i % 256) >> 4)] << 24) >> 24));
  }

  // max |error| / step: q8_0 rounds to nearest (0.5, plus up to 127 f16 ulps of d); q4_0's clamp at +7 and the
  // k-quants' 6-bit scales may cost up to one step. rmse is relative to the rms of x.
  const bounds: Record<string, { steps: number; rmse: number }> = {
    q8_0: { steps: 0.5 + 127 / 2048, rmse: 0.007 },
    q4_0: { steps: 1 + 8 / 2048, rmse: 0.1 },
    q4_k: { steps: 1, rmse: 0.08 },
    q6_k: { steps: 1, rmse: 0.02 },
  };
  for (const [dtype, bound] of Object.entries(bounds) as [DType, { steps: number; rmse: number }][]) {
    it(dtype, () => {
      const q = encode(dtype, x);
      const y = decode(dtype, q, x.length);
      let se = 0;
      let sx = 0;
      for (let i = 0; i < x.length; i++) {
        const e = Math.abs(y[i] - x[i]);
        se += e * e;
        sx += x[i] * x[i];
        assert.ok(e <= bound.steps * step(dtype, q, i) + 1e-6, `element ${i}: |${y[i]} - ${x[i]}| exceeds the bound`);
      }
      assert.ok(Math.sqrt(se / sx) < bound.rmse, `relative rmse ${Math.sqrt(se / sx)}`);
      // All-zero and constant rows come back exactly (no NaN from a zero scale; -0 is fine, ggml makes it too).
      const z = decode(dtype, encode(dtype, new Float32Array(256)), 256);
      assert.ok(
        z.every((v) => v === 0),
        `zero row -> ${z.slice(0, 4)}`,
      );
      const c = decode(dtype, encode(dtype, new Float32Array(256).fill(-2)), 256);
      assert.ok(
        c.every((v) => Math.abs(v + 2) < 2e-3),
        `constant row -> ${c.slice(0, 4)}`,
      );
    });
  }
});

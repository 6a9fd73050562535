import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { rowBytes } from "../core/dtype.js";
import { R1Error } from "../core/errors.js";
import { dequantizeRow, quantizeRow } from "../core/quant/ggml.js";
import { alignedBytes, byteSize, type Tensor } from "../core/tensor.js";
import { openGGUF } from "./gguf.js";
import { type GGUFWriteValue, writeGGUF } from "./gguf_write.js";
import { assertFormatError, randomBytes, rng, scratch } from "./testkit.js";

const tmp = scratch("gguf");
after(tmp.cleanup);
let serial = 0;
const fresh = (name: string) => path.join(tmp.dir, `${serial++}-${name}`);

function tensor(dtype: Tensor["dtype"], shape: number[], seed: number): Tensor {
  const n = byteSize(dtype, shape);
  const bytes = alignedBytes(n);
  bytes.set(randomBytes(n, seed));
  return { dtype, shape, bytes };
}

function quantized(dtype: "q8_0" | "q4_0" | "q4_k" | "q6_k", shape: [number, number], seed: number): Tensor {
  const r = rng(seed);
  const x = Float32Array.from({ length: shape[0] * shape[1] }, () => r() * 2 - 1);
  const bytes = alignedBytes(rowBytes(dtype, x.length));
  quantizeRow(dtype, x, bytes);
  return { dtype, shape, bytes };
}

const metadata: Record<string, GGUFWriteValue> = {
  "general.architecture": { type: "string", value: "qwen2" },
  "t.u8": { type: "u8", value: 255 },
  "t.i8": { type: "i8", value: -128 },
  "t.u16": { type: "u16", value: 65535 },
  "t.i16": { type: "i16", value: -32768 },
  "t.u32": { type: "u32", value: 4294967295 },
  "t.i32": { type: "i32", value: -2147483648 },
  "t.f32": { type: "f32", value: 0.5 },
  "t.f64": { type: "f64", value: Math.PI },
  "t.bool": { type: "bool", value: true },
  "t.u64.small": { type: "u64", value: 1234567 },
  "t.u64.big": { type: "u64", value: 2n ** 64n - 1n },
  "t.i64.big": { type: "i64", value: -(2n ** 62n) },
  "t.unicode": { type: "string", value: "<｜User｜> 日本語 ✓" },
  "t.strings": { type: "array", elem: "string", value: ["a", "", "Ġthe", "<think>"] },
  "t.i32s": { type: "array", elem: "i32", value: [1, -2, 3] },
  "t.f32s": { type: "array", elem: "f32", value: [0.25, -1.5] },
  "t.empty": { type: "array", elem: "u8", value: [] },
};

const tensors: Record<string, Tensor> = {
  "w.f32": tensor("f32", [3, 5], 1),
  "w.f16": tensor("f16", [2, 3, 4], 2),
  "w.bf16": tensor("bf16", [7], 3),
  "w.i32": tensor("i32", [2, 2], 4),
  "w.q8_0": quantized("q8_0", [3, 64], 5),
  "w.q4_0": quantized("q4_0", [2, 96], 6),
  "w.q4_k": quantized("q4_k", [2, 256], 7),
  "w.q6_k": quantized("q6_k", [1, 512], 8),
};

/** Position of tensor `name`'s info record fields in a written file (the name is unique in these files). */
function infoFields(buf: Buffer, name: string): { nDims: number; ne: number; type: number; offset: number } {
  const key = Buffer.concat([Buffer.alloc(8), Buffer.from(name)]);
  key.writeBigUInt64LE(BigInt(name.length));
  const at = buf.indexOf(key);
  assert.ok(at > 0, `tensor info for ${name} not found`);
  const nDims = at + key.length;
  const dims = buf.readUInt32LE(nDims);
  const type = nDims + 4 + 8 * dims;
  return { nDims, ne: nDims + 4, type, offset: type + 4 };
}

function patched(src: string, edit: (buf: Buffer) => void): string {
  const buf = fs.readFileSync(src);
  edit(buf);
  const out = fresh(path.basename(src));
  fs.writeFileSync(out, buf);
  return out;
}

describe("GGUF round trip", () => {
  const file = fresh("all.gguf");
  writeGGUF(file, metadata, tensors);

  it("reads back every metadata type", () => {
    const g = openGGUF(file);
    try {
      assert.equal(g.version, 3);
      assert.equal(g.alignment, 32);
      const m = g.metadata;
      assert.equal(m["general.architecture"], "qwen2");
      assert.equal(m["t.u8"], 255);
      assert.equal(m["t.i8"], -128);
      assert.equal(m["t.u16"], 65535);
      assert.equal(m["t.i16"], -32768);
      assert.equal(m["t.u32"], 4294967295);
      assert.equal(m["t.i32"], -2147483648);
      assert.equal(m["t.f32"], 0.5);
      assert.equal(m["t.f64"], Math.PI);
      assert.equal(m["t.bool"], true);
      assert.equal(m["t.u64.small"], 1234567, "u64 within 2^53 is a number");
      assert.equal(m["t.u64.big"], 2n ** 64n - 1n, "u64 beyond 2^53 is a bigint");
      assert.equal(m["t.i64.big"], -(2n ** 62n));
      assert.equal(m["t.unicode"], "<｜User｜> 日本語 ✓");
      assert.deepEqual(m["t.strings"], ["a", "", "Ġthe", "<think>"]);
      assert.deepEqual(m["t.i32s"], [1, -2, 3]);
      assert.deepEqual(m["t.f32s"], [0.25, -1.5]);
      assert.deepEqual(m["t.empty"], []);
      assert.equal(Object.keys(m).length, Object.keys(metadata).length);
    } finally {
      g.close();
    }
  });

  it("reads back every tensor bit-exact, quantized ones included, with shapes in r1ts order", () => {
    const g = openGGUF(file, { strict: true });
    try {
      assert.deepEqual(g.names(), Object.keys(tensors));
      for (const [name, t] of Object.entries(tensors)) {
        const info = g.info(name);
        assert.equal(info.dtype, t.dtype, name);
        assert.deepEqual(info.shape, t.shape, name);
        assert.equal(info.size, t.bytes.length, name);
        assert.equal((info.offset - g.info("w.f32").offset) % 32, 0, `${name} aligned`);
        const got = g.load(name);
        assert.deepEqual(got.bytes, t.bytes, name);
        assert.equal(got.bytes.byteOffset % 8, 0);
      }
      const q = g.load("w.q4_0");
      const a = new Float32Array(192);
      const b = new Float32Array(192);
      dequantizeRow("q4_0", q.bytes, a, 192);
      dequantizeRow("q4_0", tensors["w.q4_0"].bytes, b, 192);
      assert.deepEqual(a, b);
    } finally {
      g.close();
    }
  });

  it("writes ne[] innermost first", () => {
    const buf = fs.readFileSync(file);
    const f = infoFields(buf, "w.f16");
    assert.equal(buf.readUInt32LE(f.nDims), 3);
    assert.deepEqual(
      [0, 1, 2].map((d) => Number(buf.readBigUInt64LE(f.ne + 8 * d))),
      [4, 3, 2],
    );
    assert.equal(buf.readUInt32LE(f.type), 1); // F16
    assert.equal(buf.readUInt32LE(infoFields(buf, "w.q4_k").type), 12);
  });

  it("honours a non-default alignment through general.alignment", () => {
    const f64 = fresh("align64.gguf");
    writeGGUF(f64, { "general.architecture": { type: "string", value: "x" } }, tensors, 64);
    const g = openGGUF(f64);
    assert.equal(g.alignment, 64);
    assert.equal(g.metadata["general.alignment"], 64);
    const base = g.info("w.f32").offset;
    assert.equal(base % 64, 0);
    for (const name of g.names()) {
      assert.equal((g.info(name).offset - base) % 64, 0);
      assert.deepEqual(g.load(name).bytes, tensors[name].bytes);
    }
    g.close();
    assert.throws(() => writeGGUF(fresh("x.gguf"), {}, {}, 48), /power of two/);
  });

  it("reads a header larger than its read window (a big vocab), strings straddling chunk edges", () => {
    const r = rng(9);
    const tokens = Array.from({ length: 120_000 }, (_, i) => `tok${i}${"ĠéA".slice(0, Math.floor(r() * 4))}`);
    const scores = Array.from({ length: tokens.length }, (_, i) => -i / 4);
    const big = fresh("vocab.gguf");
    writeGGUF(
      big,
      {
        "tokenizer.ggml.tokens": { type: "array", elem: "string", value: tokens },
        "tokenizer.ggml.scores": { type: "array", elem: "f32", value: scores },
      },
      { "w.f32": tensors["w.f32"] },
    );
    assert.ok(fs.statSync(big).size > 2 << 20);
    const g = openGGUF(big);
    assert.deepEqual(g.metadata["tokenizer.ggml.tokens"], tokens);
    assert.deepEqual(g.metadata["tokenizer.ggml.scores"], scores);
    assert.deepEqual(g.load("w.f32").bytes, tensors["w.f32"].bytes);
    g.close();
  });

  it("writer rejects values that do not fit their declared type", () => {
    const bad = (v: GGUFWriteValue) => () => writeGGUF(fresh("bad.gguf"), { k: v }, {});
    assert.throws(bad({ type: "u8", value: 256 }), /u8/);
    assert.throws(bad({ type: "i32", value: 1.5 }), /i32/);
    assert.throws(bad({ type: "u64", value: -1 }), /out of range/);
    assert.throws(bad({ type: "array", elem: "string", value: ["a", 1] }), /not a string/);
    assert.throws(() => writeGGUF(fresh("bad.gguf"), {}, { t: tensor("f8_e4m3", [4], 1) }), /cannot store/);
    assert.deepEqual(
      fs.readdirSync(tmp.dir).filter((f) => f.includes(".tmp-")),
      [],
    );
  });
});

describe("GGUF unsupported tensor types", () => {
  const base = fresh("types.gguf");
  // odd's 210 bytes of q6_k leave room for any of the patched types' 256 elements.
  writeGGUF(base, {}, { ok: tensors["w.f32"], odd: quantized("q6_k", [1, 256], 3) });

  for (const [type, name] of [
    [10, "Q2_K"],
    [11, "Q3_K"],
    [13, "Q5_K"],
    [16, "IQ2_XXS"],
    [99, "unknown"],
  ] as const) {
    it(`type ${type} (${name}): header parses, the tensor refuses to load, strict refuses to open`, () => {
      const file = patched(base, (b) => b.writeUInt32LE(type, infoFields(b, "odd").type));
      const g = openGGUF(file);
      assert.deepEqual(g.names(), ["ok", "odd"]);
      assert.ok(g.has("odd"));
      assert.deepEqual(g.load("ok").bytes, tensors["w.f32"].bytes);
      assertFormatError(() => g.info("odd"), file, "odd", `type ${type}`, name, "not supported");
      assertFormatError(() => g.load("odd"), file, "odd", `type ${type}`, name, "not supported");
      g.close();
      assertFormatError(() => openGGUF(file, { strict: true }), file, "odd", `type ${type}`, name, "not supported");
    });
  }
});

describe("GGUF bad input", () => {
  const base = fresh("base.gguf");
  writeGGUF(
    base,
    {
      "general.architecture": { type: "string", value: "llama" },
      "general.alignment": { type: "u32", value: 32 },
      "tokenizer.ggml.tokens": { type: "array", elem: "string", value: ["<s>", "</s>", "hello"] },
    },
    { first: tensor("f32", [4, 8], 1), second: quantized("q8_0", [2, 64], 2) },
  );
  const buf = fs.readFileSync(base);
  const headerEnd = infoFields(buf, "second").offset + 8;

  it("bad magic", () => {
    const file = patched(base, (b) => b.write("GGML", 0, "latin1"));
    assertFormatError(() => openGGUF(file), file, "magic", "GGML");
  });

  it("unsupported versions", () => {
    for (const v of [1, 4, 0x03000000]) {
      const file = patched(base, (b) => b.writeUInt32LE(v, 4));
      assertFormatError(() => openGGUF(file), file, "version", String(v));
    }
  });

  it("a cut anywhere in the header is a format error naming the field, never a RangeError", () => {
    for (let cut = 0; cut < headerEnd; cut++) {
      const file = fresh("cut.gguf");
      fs.writeFileSync(file, buf.subarray(0, cut));
      const e = assertFormatError(() => openGGUF(file), file);
      assert.ok(/truncated|end of file/.test(e.message), `cut ${cut}: ${e.message}`);
      fs.rmSync(file);
    }
    const at = (cut: number, ...fields: string[]) => {
      const file = fresh("cut.gguf");
      fs.writeFileSync(file, buf.subarray(0, cut));
      assertFormatError(() => openGGUF(file), file, ...fields);
    };
    at(2, "magic");
    at(6, "version");
    at(12, "tensor_count");
    at(20, "kv_count");
    at(30, "kv[0].key");
    const tokens = buf.indexOf("tokenizer.ggml.tokens") + "tokenizer.ggml.tokens".length;
    at(tokens + 2, "metadata tokenizer.ggml.tokens");
    at(tokens + 20, "metadata tokenizer.ggml.tokens", "array of 3 elements"); // fewer bytes left than 3 strings need
    at(buf.indexOf("hello") + 2, "metadata tokenizer.ggml.tokens[2]");
    const f = infoFields(buf, "second");
    at(f.nDims - 3, "tensor_info[1].name");
    at(f.ne + 3, "tensor second ne[0]");
    at(f.type + 1, "tensor second type");
    at(f.offset + 1, "tensor second offset");
  });

  it("tensor data cut short", () => {
    const file = fresh("short-data.gguf");
    fs.writeFileSync(file, buf.subarray(0, buf.length - 40)); // past the 24 bytes of final padding
    assertFormatError(() => openGGUF(file), file, "second", "past the end");
  });

  it("tensor data out of range", () => {
    const file = patched(base, (b) => b.writeBigUInt64LE(1n << 20n, infoFields(b, "second").offset));
    assertFormatError(() => openGGUF(file), file, "second", "past the end");
  });

  it("misaligned tensor offset", () => {
    const file = patched(base, (b) => b.writeBigUInt64LE(132n, infoFields(b, "second").offset));
    assertFormatError(() => openGGUF(file), file, "second", "132", "alignment 32");
  });

  it("overlapping tensors name both", () => {
    const file = patched(base, (b) => b.writeBigUInt64LE(96n, infoFields(b, "second").offset));
    assertFormatError(() => openGGUF(file), file, "first", "second", "overlap");
  });

  it("quantized inner dimension not a multiple of the block size", () => {
    const file = patched(base, (b) => b.writeBigUInt64LE(48n, infoFields(b, "second").ne));
    assertFormatError(() => openGGUF(file), file, "second", "48", "Q8_0", "32");
  });

  it("general.alignment that is not a power of two", () => {
    const file = patched(base, (b) => {
      const at = b.indexOf("general.alignment") + "general.alignment".length;
      assert.equal(b.readUInt32LE(at), 4); // u32 value type
      b.writeUInt32LE(24, at + 4);
    });
    assertFormatError(() => openGGUF(file), file, "general.alignment", "24");
  });

  it("unknown metadata value type, bad bool, implausible lengths", () => {
    const at = buf.indexOf("general.architecture") + "general.architecture".length;
    const t = patched(base, (b) => b.writeUInt32LE(13, at));
    assertFormatError(() => openGGUF(t), t, "general.architecture", "unknown value type 13");
    const len = patched(base, (b) => b.writeBigUInt64LE(1n << 40n, at + 4));
    assertFormatError(() => openGGUF(len), len, "general.architecture", "truncated");
    const huge = patched(base, (b) => b.writeBigUInt64LE(2n ** 63n, at + 4));
    assertFormatError(() => openGGUF(huge), huge, "general.architecture", "implausibly large");
    const dims = patched(base, (b) => b.writeUInt32LE(5, infoFields(b, "first").nDims));
    assertFormatError(() => openGGUF(dims), dims, "first", "n_dims 5");
  });

  it("a missing file is not_found; an unknown name is a clear error", () => {
    assert.throws(
      () => openGGUF(fresh("absent.gguf")),
      (e) => e instanceof R1Error && e.code === "not_found",
    );
    const g = openGGUF(base);
    assertFormatError(() => g.load("third"), base, "third", "no tensor");
    g.close();
    assert.throws(() => g.load("first"), /closed/);
  });
});

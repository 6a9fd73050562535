import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { R1Error } from "../core/errors.js";
import { alignedBytes, byteSize, type Tensor } from "../core/tensor.js";
import { openSafetensors, openSafetensorsFolder } from "./safetensors.js";
import { writeSafetensors, writeSafetensorsSharded } from "./safetensors_write.js";
import { writeAtomic } from "./source.js";
import { assertFormatError, randomBytes, scratch } from "./testkit.js";

const tmp = scratch("safetensors");
after(tmp.cleanup);
let serial = 0;
const fresh = (name: string) => path.join(tmp.dir, `${serial++}-${name}`);

function tensor(dtype: Tensor["dtype"], shape: number[], seed: number): Tensor {
  const n = byteSize(dtype, shape);
  const bytes = alignedBytes(n);
  bytes.set(randomBytes(n, seed));
  return { dtype, shape, bytes };
}

const sample: Record<string, Tensor> = {
  "a.f32": tensor("f32", [3, 5], 1),
  "b.f16": tensor("f16", [7], 2),
  "c.bf16": tensor("bf16", [2, 3, 4], 3),
  "d.e4m3": tensor("f8_e4m3", [5, 3], 4),
  "e.e5m2": tensor("f8_e5m2", [9], 5),
  "f.i32": tensor("i32", [4], 6),
  "g.i64": tensor("i64", [2, 2], 7),
  "h.empty": tensor("f32", [0, 4], 8),
  "i.scalar": tensor("f32", [], 9),
};

/** A raw safetensors file from a header object (or raw header text) and a data section. */
function rawFile(header: unknown, data: Uint8Array, file = fresh("raw.safetensors")): string {
  const json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
  return file;
}

describe("safetensors round trip", () => {
  it("writes and reads back every dtype, shape, order and metadata", () => {
    const file = fresh("all.safetensors");
    writeSafetensors(file, sample, { format: "pt", note: "r1ts" });
    const src = openSafetensors(file);
    try {
      assert.deepEqual(src.names(), Object.keys(sample));
      assert.deepEqual(src.metadata, { format: "pt", note: "r1ts" });
      assert.deepEqual(src.files, [file]);
      const headerLen = Number(fs.readFileSync(file).readBigUInt64LE(0));
      assert.equal(headerLen % 8, 0, "header padded to a multiple of 8");
      let expectOffset = 8 + headerLen;
      for (const [name, t] of Object.entries(sample)) {
        assert.ok(src.has(name));
        const info = src.info(name);
        assert.deepEqual(
          { dtype: info.dtype, shape: info.shape, size: info.size, offset: info.offset, file: info.file },
          { dtype: t.dtype, shape: t.shape, size: t.bytes.length, offset: expectOffset, file },
        );
        expectOffset += t.bytes.length;
        const got = src.load(name);
        assert.deepEqual(got.bytes, t.bytes, name);
        assert.deepEqual(got.shape, t.shape);
        assert.equal(got.bytes.byteOffset % 8, 0);
        assert.equal(got.bytes.buffer.byteLength % 8, 0, "backing buffer is 8-byte aligned and sized");
      }
      assert.equal(expectOffset, fs.statSync(file).size);
      // i64 data comes back viewable as BigInt64 without a copy.
      const g = src.load("g.i64");
      assert.equal(new BigInt64Array(g.bytes.buffer, g.bytes.byteOffset, 4).length, 4);
      assert.equal(src.has("nope"), false);
      assertFormatError(() => src.load("nope"), file, "nope");
    } finally {
      src.close();
    }
  });

  it("sharded writer: shards of at most maxShardBytes, an index, and a folder that reads it all back", () => {
    const dir = fresh("sharded");
    const shards = writeSafetensorsSharded(dir, sample, 64, { format: "pt" });
    assert.ok(shards.length > 2);
    assert.equal(shards[0], `model-00001-of-${String(shards.length).padStart(5, "0")}.safetensors`);
    const index = JSON.parse(fs.readFileSync(path.join(dir, "model.safetensors.index.json"), "utf8"));
    const total = Object.values(sample).reduce((s, t) => s + t.bytes.length, 0);
    assert.equal(index.metadata.total_size, total);
    assert.deepEqual(Object.keys(index.weight_map), Object.keys(sample));
    for (const shard of shards) {
      const s = openSafetensors(path.join(dir, shard));
      const data = s.names().reduce((n, name) => n + s.info(name).size, 0);
      assert.ok(data <= 64 || s.names().length === 1, `${shard} holds ${data} bytes`);
      s.close();
    }
    const src = openSafetensorsFolder(dir);
    assert.deepEqual(
      src.files,
      shards.map((s) => path.join(dir, s)),
    );
    assert.deepEqual(src.names(), Object.keys(sample));
    for (const [name, t] of Object.entries(sample)) {
      assert.equal(src.info(name).file, path.join(dir, index.weight_map[name]));
      assert.deepEqual(src.load(name).bytes, t.bytes);
    }
    assert.deepEqual(src.metadata, { format: "pt" });
    src.close();
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes(".tmp-")),
      [],
    );
  });

  it("folder without an index: model.safetensors, else every *.safetensors", () => {
    const single = fresh("single");
    fs.mkdirSync(single);
    writeSafetensors(path.join(single, "model.safetensors"), { x: sample["a.f32"] });
    writeSafetensors(path.join(single, "other.safetensors"), { y: sample["b.f16"] });
    const s1 = openSafetensorsFolder(single);
    assert.deepEqual(s1.names(), ["x"]);
    s1.close();

    const loose = fresh("loose");
    fs.mkdirSync(loose);
    writeSafetensors(path.join(loose, "b.safetensors"), { y: sample["b.f16"] });
    writeSafetensors(path.join(loose, "a.safetensors"), { x: sample["a.f32"] });
    const s2 = openSafetensorsFolder(loose);
    assert.deepEqual(s2.names().sort(), ["x", "y"]);
    assert.deepEqual(s2.load("y").bytes, sample["b.f16"].bytes);
    s2.close();

    writeSafetensors(path.join(loose, "c.safetensors"), { x: sample["c.bf16"] });
    assertFormatError(() => openSafetensorsFolder(loose), path.join(loose, "c.safetensors"), "x", "a.safetensors");

    const empty = fresh("empty");
    fs.mkdirSync(empty);
    assert.throws(
      () => openSafetensorsFolder(empty),
      (e) => e instanceof R1Error && e.code === "not_found",
    );
    assert.throws(
      () => openSafetensorsFolder(fresh("missing")),
      (e) => e instanceof R1Error && e.code === "not_found",
    );
  });

  it("writes atomically: a failed write leaves the old file and no temporary behind", () => {
    const file = fresh("atomic.safetensors");
    writeSafetensors(file, { x: sample["a.f32"] });
    const before = fs.readFileSync(file);
    assert.throws(
      () =>
        writeAtomic(file, (fd) => {
          fs.writeSync(fd, "partial");
          throw new Error("disk full");
        }),
      /disk full/,
    );
    assert.deepEqual(fs.readFileSync(file), before);
    assert.deepEqual(
      fs.readdirSync(path.dirname(file)).filter((f) => f.includes(".tmp-")),
      [],
    );
    assert.throws(() => writeSafetensors(fresh("bad.safetensors"), { q: tensor("q8_0", [32], 1) }), /cannot store/);
    assert.throws(
      () => writeSafetensors(fresh("bad.safetensors"), { x: { dtype: "f32", shape: [4], bytes: new Uint8Array(8) } }),
      /needs 16/,
    );
  });
});

describe("safetensors bad input", () => {
  const four = new Uint8Array(16);
  const ok = { t: { dtype: "F32", shape: [4], data_offsets: [0, 16] } };

  it("file shorter than 8 bytes", () => {
    const file = fresh("short.safetensors");
    fs.writeFileSync(file, Buffer.from([1, 2, 3]));
    assertFormatError(() => openSafetensors(file), file, "header length", "shorter than");
  });

  it("header length past the end of the file", () => {
    const file = rawFile(ok, four);
    const buf = fs.readFileSync(file);
    buf.writeBigUInt64LE(BigInt(buf.length), 0);
    fs.writeFileSync(file, buf);
    assertFormatError(() => openSafetensors(file), file, "header length", "past the end");
  });

  it("malformed JSON header", () => {
    const file = rawFile('{"t": {"dtype": "F32", ', four);
    assertFormatError(() => openSafetensors(file), file, "header", "malformed JSON");
  });

  it("unknown dtype names the tensor and the dtype", () => {
    const file = rawFile({ weird: { dtype: "F64", shape: [2], data_offsets: [0, 16] } }, four);
    assertFormatError(() => openSafetensors(file), file, "weird", "F64");
  });

  it("data_offsets past the end of the file", () => {
    const file = rawFile({ big: { dtype: "F32", shape: [8], data_offsets: [0, 32] } }, four);
    assertFormatError(() => openSafetensors(file), file, "big", "past the end");
  });

  it("data_offsets that disagree with dtype and shape", () => {
    const file = rawFile({ odd: { dtype: "F32", shape: [3], data_offsets: [0, 16] } }, four);
    assertFormatError(() => openSafetensors(file), file, "odd", "needs 12");
  });

  it("overlapping tensors name both", () => {
    const header = {
      first: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      second: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
    };
    const file = rawFile(header, four);
    assertFormatError(() => openSafetensors(file), file, "first", "second", "overlap");
  });

  it("index naming a shard that is missing", () => {
    const dir = fresh("noshard");
    writeSafetensorsSharded(dir, { x: sample["a.f32"], y: sample["b.f16"] }, 1);
    fs.rmSync(path.join(dir, "model-00002-of-00002.safetensors"));
    assertFormatError(
      () => openSafetensorsFolder(dir),
      path.join(dir, "model.safetensors.index.json"),
      "model-00002-of-00002.safetensors",
      "missing",
    );
  });

  it("index listing a tensor its shard does not hold", () => {
    const dir = fresh("notinshard");
    writeSafetensorsSharded(dir, { x: sample["a.f32"], y: sample["b.f16"] }, 1);
    const indexPath = path.join(dir, "model.safetensors.index.json");
    const index = JSON.parse(fs.readFileSync(indexPath, "utf8"));
    index.weight_map.ghost = "model-00001-of-00002.safetensors";
    fs.writeFileSync(indexPath, JSON.stringify(index));
    assertFormatError(() => openSafetensorsFolder(dir), indexPath, "ghost", "model-00001-of-00002.safetensors");
  });

  it("malformed index", () => {
    const dir = fresh("badindex");
    fs.mkdirSync(dir);
    const indexPath = path.join(dir, "model.safetensors.index.json");
    fs.writeFileSync(indexPath, "{not json");
    assertFormatError(() => openSafetensorsFolder(dir), indexPath, "malformed JSON");
    fs.writeFileSync(indexPath, JSON.stringify({ metadata: {} }));
    assertFormatError(() => openSafetensorsFolder(dir), indexPath, "weight_map");
  });

  it("a file truncated after opening fails the load, naming the tensor", () => {
    const file = fresh("shrink.safetensors");
    writeSafetensors(file, { x: sample["a.f32"] });
    const src = openSafetensors(file);
    fs.truncateSync(file, fs.statSync(file).size - 4);
    assertFormatError(() => src.load("x"), file, "x", "end of file");
    src.close();
  });
});

// GGUF v3 writer for tests, benchmarks and the trainer's export. Every metadata value names its GGUF type, so
// a u32 stays a u32 in the file (llama.cpp reads some keys only at their exact type). Tensors are given in
// r1ts row-major shape and written with ne[] reversed (innermost first); each tensor's data starts at a
// multiple of `alignment` from the data start and is followed by zero padding, as ggml writes it.

import { BLOCK_LAYOUT } from "../core/dtype.js";
import { usageError } from "../core/errors.js";
import { byteSize, type Tensor } from "../core/tensor.js";
import { GGML_TYPE_OF } from "./ggml_types.js";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VALUE } from "./gguf.js";
import { writeAtomic, writeFully } from "./source.js";

export type GGUFScalarType = Exclude<keyof typeof GGUF_VALUE, "array">;

export type GGUFWriteValue =
  | { type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64"; value: number }
  | { type: "u64" | "i64"; value: number | bigint }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "array"; elem: GGUFScalarType; value: ReadonlyArray<number | bigint | boolean | string> };

const INT_RANGE: Partial<Record<GGUFScalarType, [number, number]>> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};

/** A growable little-endian byte buffer for the header. */
class Bytes {
  private buf = Buffer.alloc(4096);
  length = 0;

  private room(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  // room() may replace this.buf, so it runs before this.buf is read.
  private put(n: number, write: (b: Buffer, at: number) => void): void {
    const at = this.room(n);
    write(this.buf, at);
  }

  u8 = (v: number) => this.put(1, (b, at) => b.writeUInt8(v, at));
  i8 = (v: number) => this.put(1, (b, at) => b.writeInt8(v, at));
  u16 = (v: number) => this.put(2, (b, at) => b.writeUInt16LE(v, at));
  i16 = (v: number) => this.put(2, (b, at) => b.writeInt16LE(v, at));
  u32 = (v: number) => this.put(4, (b, at) => b.writeUInt32LE(v, at));
  i32 = (v: number) => this.put(4, (b, at) => b.writeInt32LE(v, at));
  f32 = (v: number) => this.put(4, (b, at) => b.writeFloatLE(v, at));
  f64 = (v: number) => this.put(8, (b, at) => b.writeDoubleLE(v, at));
  u64 = (v: bigint) => this.put(8, (b, at) => b.writeBigUInt64LE(v, at));
  i64 = (v: bigint) => this.put(8, (b, at) => b.writeBigInt64LE(v, at));

  str(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(BigInt(b.length));
    this.put(b.length, (buf, at) => b.copy(buf, at));
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

function writeScalar(out: Bytes, type: GGUFScalarType, v: unknown, field: string): void {
  const bad = (why: string) => usageError(`writeGGUF: ${field}: ${JSON.stringify(String(v))} ${why}`);
  const range = INT_RANGE[type];
  if (range) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < range[0] || v > range[1]) {
      throw bad(`is not a ${type} (an integer in [${range[0]}, ${range[1]}])`);
    }
    out[type as "u8"](v);
    return;
  }
  switch (type) {
    case "f32":
    case "f64":
      if (typeof v !== "number") throw bad(`is not a number for ${type}`);
      out[type](v);
      return;
    case "u64":
    case "i64": {
      if (typeof v !== "bigint" && !(typeof v === "number" && Number.isInteger(v))) throw bad(`is not an integer`);
      const b = BigInt(v);
      const [lo, hi] = type === "u64" ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
      if (b < lo || b > hi) throw bad(`is out of range for ${type}`);
      out[type](b);
      return;
    }
    case "bool":
      if (typeof v !== "boolean") throw bad("is not a boolean");
      out.u8(v ? 1 : 0);
      return;
    case "string":
      if (typeof v !== "string") throw bad("is not a string");
      out.str(v);
      return;
    default:
      throw usageError(`writeGGUF: ${field}: unknown type ${JSON.stringify(type)}`);
  }
}

function writeValue(out: Bytes, v: GGUFWriteValue, field: string): void {
  if (v.type === "array") {
    if (!(v.elem in GGUF_VALUE) || v.elem === ("array" as string)) {
      throw usageError(`writeGGUF: ${field}: unsupported array element type ${JSON.stringify(v.elem)}`);
    }
    out.u32(GGUF_VALUE.array);
    out.u32(GGUF_VALUE[v.elem]);
    out.u64(BigInt(v.value.length));
    v.value.forEach((x, i) => {
      writeScalar(out, v.elem, x, `${field}[${i}]`);
    });
    return;
  }
  if (!(v.type in GGUF_VALUE)) throw usageError(`writeGGUF: ${field}: unknown type ${JSON.stringify(v.type)}`);
  out.u32(GGUF_VALUE[v.type]);
  writeScalar(out, v.type, v.value, field);
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export function writeGGUF(
  file: string,
  metadata: Record<string, GGUFWriteValue>,
  tensors: Record<string, Tensor>,
  alignment = GGUF_DEFAULT_ALIGNMENT,
): void {
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw usageError(`writeGGUF: alignment ${alignment} is not a positive power of two`);
  }
  // The reader learns a non-default alignment only from general.alignment, so it must agree with the layout.
  const kv: [string, GGUFWriteValue][] = Object.entries(metadata);
  const given = metadata["general.alignment"];
  if (given) {
    if (given.type !== "u32" || given.value !== alignment) {
      throw usageError(`writeGGUF: general.alignment must be {type: "u32", value: ${alignment}} to match the layout`);
    }
  } else if (alignment !== GGUF_DEFAULT_ALIGNMENT) {
    kv.push(["general.alignment", { type: "u32", value: alignment }]);
  }

  const h = new Bytes();
  h.u32(GGUF_MAGIC);
  h.u32(3);
  const entries = Object.entries(tensors);
  h.u64(BigInt(entries.length));
  h.u64(BigInt(kv.length));
  for (const [key, v] of kv) {
    h.str(key);
    writeValue(h, v, `metadata ${key}`);
  }

  let offset = 0;
  const pads: number[] = [];
  for (const [name, t] of entries) {
    const ggmlType = GGML_TYPE_OF[t.dtype];
    if (ggmlType === undefined) throw usageError(`writeGGUF: tensor ${name} is ${t.dtype}, which GGUF cannot store`);
    const shape = t.shape.length > 0 ? t.shape : [1];
    const block = BLOCK_LAYOUT[t.dtype];
    if (block && shape[shape.length - 1] % block.elems !== 0) {
      throw usageError(
        `writeGGUF: tensor ${name}: inner dimension ${shape.at(-1)} is not a multiple of ${block.elems}`,
      );
    }
    const want = byteSize(t.dtype, shape);
    if (t.bytes.length !== want) {
      throw usageError(
        `writeGGUF: tensor ${name} ${t.dtype} [${t.shape.join(", ")}] has ${t.bytes.length} bytes, needs ${want}`,
      );
    }
    h.str(name);
    h.u32(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) h.u64(BigInt(shape[d]));
    h.u32(ggmlType);
    h.u64(BigInt(offset));
    const next = alignUp(offset + want, alignment);
    pads.push(next - offset - want);
    offset = next;
  }
  const headerPad = alignUp(h.length, alignment) - h.length;
  const zeros = new Uint8Array(alignment);

  writeAtomic(file, (fd) => {
    writeFully(fd, h.bytes());
    writeFully(fd, zeros.subarray(0, headerPad));
    entries.forEach(([, t], i) => {
      writeFully(fd, t.bytes);
      writeFully(fd, zeros.subarray(0, pads[i]));
    });
  });
}

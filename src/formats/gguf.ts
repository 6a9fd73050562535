// GGUF v2/v3 reader (llama.cpp's single-file format). Layout, all little-endian:
//   "GGUF" | u32 version | u64 tensor_count | u64 kv_count | kv pairs | tensor infos | pad to alignment | data
// kv pair: gguf string key (u64 length + utf8), u32 value type, value. Tensor info: name, u32 n_dims,
// u64 ne[n_dims] (innermost first), u32 ggml type, u64 offset from the data start (a multiple of alignment).
// The header of a real model holds the whole vocab (tens of MB), so it is read through a chunked cursor with
// positioned reads; tensor data is only touched by load(name).

import * as fs from "node:fs";
import { formatError, R1Error } from "../core/errors.js";
import { GGML_TYPES } from "./ggml_types.js";
import { checkOverlaps, readFully, readTensor, type TensorInfo, type TensorSource } from "./source.js";

export type GGUFValue = number | bigint | boolean | string | GGUFValue[];

export interface GGUFFile extends TensorSource {
  version: number;
  metadata: Record<string, GGUFValue>;
  alignment: number;
}

/** GGUF value type ids (gguf_type). */
export const GGUF_VALUE = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;
const GGML_MAX_DIMS = 4;
/** Smallest encoded size of one value of each type; bounds array counts before any allocation. */
const MIN_VALUE_BYTES = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8];
const CHUNK = 1 << 20;

/** Sequential reads over a file through a 1 MiB window; any read past EOF is a format error naming the field. */
class Cursor {
  pos = 0;
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;

  constructor(
    private readonly fd: number,
    readonly file: string,
    readonly size: number,
  ) {}

  /** Reserve `n` bytes at pos; returns their index in this.buf. */
  private take(n: number, field: string): number {
    if (this.pos + n > this.size) {
      throw formatError(
        this.file,
        field,
        `truncated: ${n} bytes at offset ${this.pos} run past the end of the file (${this.size} bytes)`,
      );
    }
    let rel = this.pos - this.bufStart;
    if (rel < 0 || rel + n > this.buf.length) {
      const len = Math.min(Math.max(n, CHUNK), this.size - this.pos);
      this.buf = Buffer.allocUnsafe(len);
      readFully(this.fd, this.buf, this.pos, this.file, field);
      this.bufStart = this.pos;
      rel = 0;
    }
    this.pos += n;
    return rel;
  }

  remaining(): number {
    return this.size - this.pos;
  }

  /** Take `n` bytes, then decode them; take() may swap the window, so this.buf is read only after it. */
  private at<T>(n: number, f: string, read: (b: Buffer, i: number) => T): T {
    const i = this.take(n, f);
    return read(this.buf, i);
  }

  u8 = (f: string) => this.at(1, f, (b, i) => b.readUInt8(i));
  i8 = (f: string) => this.at(1, f, (b, i) => b.readInt8(i));
  u16 = (f: string) => this.at(2, f, (b, i) => b.readUInt16LE(i));
  i16 = (f: string) => this.at(2, f, (b, i) => b.readInt16LE(i));
  u32 = (f: string) => this.at(4, f, (b, i) => b.readUInt32LE(i));
  i32 = (f: string) => this.at(4, f, (b, i) => b.readInt32LE(i));
  f32 = (f: string) => this.at(4, f, (b, i) => b.readFloatLE(i));
  f64 = (f: string) => this.at(8, f, (b, i) => b.readDoubleLE(i));
  u64 = (f: string) => this.at(8, f, (b, i) => b.readBigUInt64LE(i));
  i64 = (f: string) => this.at(8, f, (b, i) => b.readBigInt64LE(i));

  /** A u64 that must fit a JS number (counts, lengths, dims, offsets). */
  count(f: string): number {
    const v = this.u64(f);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw formatError(this.file, f, `value ${v} is implausibly large`);
    return Number(v);
  }

  str(f: string): string {
    const len = this.count(`${f} (string length)`);
    if (len > this.remaining()) {
      throw formatError(
        this.file,
        f,
        `truncated: string of ${len} bytes at offset ${this.pos} runs past the end of the file`,
      );
    }
    return this.at(len, f, (b, i) => b.toString("utf8", i, i + len));
  }
}

/** u64/i64 metadata: a number while exact, a bigint beyond 2^53. */
function int64Value(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function readValue(c: Cursor, type: number, field: string): GGUFValue {
  switch (type) {
    case GGUF_VALUE.u8:
      return c.u8(field);
    case GGUF_VALUE.i8:
      return c.i8(field);
    case GGUF_VALUE.u16:
      return c.u16(field);
    case GGUF_VALUE.i16:
      return c.i16(field);
    case GGUF_VALUE.u32:
      return c.u32(field);
    case GGUF_VALUE.i32:
      return c.i32(field);
    case GGUF_VALUE.f32:
      return c.f32(field);
    case GGUF_VALUE.bool: {
      const b = c.u8(field);
      if (b > 1) throw formatError(c.file, field, `bool byte is ${b}, not 0 or 1`);
      return b === 1;
    }
    case GGUF_VALUE.string:
      return c.str(field);
    case GGUF_VALUE.u64:
      return int64Value(c.u64(field));
    case GGUF_VALUE.i64:
      return int64Value(c.i64(field));
    case GGUF_VALUE.f64:
      return c.f64(field);
    case GGUF_VALUE.array: {
      const elem = c.u32(`${field} (array element type)`);
      const n = c.count(`${field} (array length)`);
      const min = MIN_VALUE_BYTES[elem];
      if (min === undefined) throw formatError(c.file, field, `unknown array element type ${elem}`);
      if (n * min > c.remaining()) {
        throw formatError(c.file, field, `truncated: array of ${n} elements runs past the end of the file`);
      }
      const out: GGUFValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readValue(c, elem, `${field}[${i}]`);
      return out;
    }
    default:
      throw formatError(c.file, field, `unknown value type ${type}`);
  }
}

/** Why a tensor in the header cannot be loaded; undefined when it can. */
function unsupportedReason(ggmlType: number): string | undefined {
  const t = GGML_TYPES.get(ggmlType);
  if (t?.dtype) return undefined;
  const loadable = [...GGML_TYPES.values()].filter((x) => x.dtype).map((x) => x.name);
  return `ggml type ${ggmlType} (${t ? t.name : "unknown"}) is not supported; r1ts loads ${loadable.join(", ")}`;
}

const UNSUPPORTED_HINT =
  "use a GGUF quantized to Q4_K, Q6_K, Q8_0 or Q4_0 (or F16/BF16/F32), or the safetensors checkpoint";

interface RawTensor {
  name: string;
  ne: number[];
  ggmlType: number;
  offset: number;
}

export function openGGUF(file: string, opts: { strict?: boolean } = {}): GGUFFile {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new R1Error("not_found", `${file}: no such file`, "check the path to the GGUF file");
    }
    throw e;
  }
  try {
    return parse(fd, file, opts.strict ?? false);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

function parse(fd: number, file: string, strict: boolean): GGUFFile {
  const c = new Cursor(fd, file, fs.fstatSync(fd).size);

  // ---- fixed header
  const magic = c.u32("magic");
  if (magic !== GGUF_MAGIC) {
    const got = Buffer.alloc(4);
    got.writeUInt32LE(magic);
    throw formatError(
      file,
      "magic",
      `expected "GGUF", found ${JSON.stringify(got.toString("latin1"))}`,
      "is this a GGUF file?",
    );
  }
  const version = c.u32("version");
  if (version !== 2 && version !== 3) {
    const hint =
      version === 1
        ? "GGUF v1 is obsolete; convert the model again with a current llama.cpp"
        : version > 0xffff
          ? "this looks like a big-endian GGUF, which r1ts does not read"
          : "r1ts reads GGUF versions 2 and 3";
    throw formatError(file, "version", `unsupported GGUF version ${version}`, hint);
  }
  const tensorCount = c.count("tensor_count");
  const kvCount = c.count("kv_count");

  // ---- metadata
  // A null prototype, so a key like "__proto__" is stored as data.
  const metadata: Record<string, GGUFValue> = Object.create(null);
  for (let i = 0; i < kvCount; i++) {
    const key = c.str(`kv[${i}].key`);
    if (Object.hasOwn(metadata, key)) throw formatError(file, `metadata ${key}`, "duplicate key");
    const type = c.u32(`metadata ${key} (value type)`);
    metadata[key] = readValue(c, type, `metadata ${key}`);
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  if (Object.hasOwn(metadata, "general.alignment")) {
    const a = metadata["general.alignment"];
    if (typeof a !== "number" || !Number.isInteger(a) || a <= 0 || (a & (a - 1)) !== 0) {
      throw formatError(file, "metadata general.alignment", `${String(a)} is not a positive power of two`);
    }
    alignment = a;
  }

  // ---- tensor infos
  const raw: RawTensor[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = c.str(`tensor_info[${i}].name`);
    if (seen.has(name)) throw formatError(file, `tensor ${name}`, "duplicate tensor name");
    seen.add(name);
    const nDims = c.u32(`tensor ${name} n_dims`);
    if (nDims > GGML_MAX_DIMS)
      throw formatError(file, `tensor ${name}`, `n_dims ${nDims} exceeds ggml's ${GGML_MAX_DIMS}`);
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) ne.push(c.count(`tensor ${name} ne[${d}]`));
    const ggmlType = c.u32(`tensor ${name} type`);
    const offset = c.count(`tensor ${name} offset`);
    raw.push({ name, ne, ggmlType, offset });
  }
  const dataStart = Math.ceil(c.pos / alignment) * alignment;

  // ---- validate placement; build infos for the loadable tensors
  const infos = new Map<string, TensorInfo>();
  const unsupported = new Map<string, string>();
  const placed: TensorInfo[] = [];
  for (const t of raw) {
    const gt = GGML_TYPES.get(t.ggmlType);
    const reason = unsupportedReason(t.ggmlType);
    if (reason) unsupported.set(t.name, reason);
    if (t.offset % alignment !== 0) {
      throw formatError(file, t.name, `data offset ${t.offset} is not a multiple of the alignment ${alignment}`);
    }
    // Unknown ids have no known size, so only their alignment can be checked.
    if (!gt) continue;
    const inner = t.ne.length > 0 ? t.ne[0] : 1;
    if (inner % gt.blockElems !== 0) {
      throw formatError(
        file,
        t.name,
        `inner dimension ${inner} is not a multiple of the ${gt.name} block size ${gt.blockElems}`,
      );
    }
    let size = (inner / gt.blockElems) * gt.blockBytes;
    for (let d = 1; d < t.ne.length; d++) size *= t.ne[d];
    const begin = dataStart + t.offset;
    if (!Number.isSafeInteger(size) || begin + size > c.size) {
      throw formatError(
        file,
        t.name,
        `data [${begin}, ${begin + size}) runs past the end of the file (${c.size} bytes)`,
      );
    }
    const info: TensorInfo = {
      name: t.name,
      // Tensors r1ts cannot load still take part in the overlap check; their dtype is never read.
      dtype: gt.dtype ?? "f32",
      shape: t.ne.slice().reverse(),
      file,
      offset: begin,
      size,
    };
    placed.push(info);
    if (!reason) infos.set(t.name, info);
  }
  checkOverlaps(file, placed);
  if (strict && unsupported.size > 0) {
    const [name, reason] = unsupported.entries().next().value!;
    throw formatError(file, name, reason, UNSUPPORTED_HINT);
  }

  // ---- the source
  let closed = false;
  const entry = (name: string): TensorInfo => {
    if (closed) throw new Error(`GGUF source ${file} is closed`);
    const info = infos.get(name);
    if (info) return info;
    const reason = unsupported.get(name);
    if (reason) throw formatError(file, name, reason, UNSUPPORTED_HINT);
    throw formatError(file, name, "no tensor of this name");
  };
  return {
    files: [file],
    version,
    metadata,
    alignment,
    names: () => raw.map((t) => t.name),
    has: (name) => seen.has(name),
    info: (name) => {
      const info = entry(name);
      return { ...info, shape: info.shape.slice() };
    },
    load: (name, alloc) => readTensor(fd, entry(name), alloc),
    close: () => {
      if (!closed) fs.closeSync(fd);
      closed = true;
    },
  };
}

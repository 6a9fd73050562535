// Safetensors reader: one file, or a Hugging Face folder (sharded with model.safetensors.index.json, or a single
// model.safetensors). Layout: u64 LE header length N, N bytes of JSON
//   {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}
// then the data; offsets are relative to the first byte after the header. Only the header is read at open;
// load(name) reads that tensor's bytes, and nothing else, straight into its aligned buffer.

import * as fs from "node:fs";
import * as path from "node:path";
import { type DType, ELEMENT_BYTES } from "../core/dtype.js";
import { formatError, R1Error } from "../core/errors.js";
import { numel } from "../core/tensor.js";
import { checkOverlaps, readFully, readTensor, type TensorInfo, type TensorSource } from "./source.js";

export type { MetadataValue, TensorInfo, TensorSource } from "./source.js";

/** Safetensors dtype names -> r1ts dtypes (and back, for the writer). */
export const SAFETENSORS_DTYPES: Readonly<Record<string, DType>> = {
  F32: "f32",
  F16: "f16",
  BF16: "bf16",
  F8_E4M3: "f8_e4m3",
  F8_E5M2: "f8_e5m2",
  I32: "i32",
  I64: "i64",
};

/** A safetensors source; its metadata is the header's `__metadata__` (strings only, by the format's rule). */
export interface SafetensorsFile extends TensorSource {
  metadata: Record<string, string>;
}

/** The spec caps the header at 100 MB; a larger length is a corrupt or foreign file, not a big model. */
const MAX_HEADER = 100_000_000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function closeAll(fds: number[]): void {
  for (const fd of fds.splice(0)) fs.closeSync(fd);
}

/** Parse and validate the header of one file; the fd stays with the caller. */
function readHeader(file: string, fd: number): { infos: TensorInfo[]; metadata: Record<string, string> } {
  const fileSize = fs.fstatSync(fd).size;
  if (fileSize < 8)
    throw formatError(file, "header length", `file is ${fileSize} bytes, shorter than the 8-byte header length`);
  const lenBuf = Buffer.alloc(8);
  readFully(fd, lenBuf, 0, file, "header length");
  const n = lenBuf.readBigUInt64LE(0);
  if (n > BigInt(fileSize - 8)) {
    throw formatError(file, "header length", `header length ${n} runs past the end of the file (${fileSize} bytes)`);
  }
  if (n > BigInt(MAX_HEADER)) throw formatError(file, "header length", `header length ${n} exceeds the 100 MB limit`);
  const headerLen = Number(n);
  const dataStart = 8 + headerLen;
  const hbuf = Buffer.alloc(headerLen);
  readFully(fd, hbuf, 8, file, "header");

  let header: unknown;
  try {
    header = JSON.parse(hbuf.toString("utf8"));
  } catch (e) {
    throw formatError(file, "header", `malformed JSON (${(e as Error).message})`);
  }
  if (!isObject(header)) throw formatError(file, "header", "JSON header is not an object");

  const metadata: Record<string, string> = {};
  const infos: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (!isObject(entry)) throw formatError(file, "__metadata__", "is not an object of strings");
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== "string") throw formatError(file, `__metadata__.${k}`, `value is ${typeof v}, not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (!isObject(entry)) throw formatError(file, name, "tensor entry is not an object");
    const { dtype: st, shape, data_offsets: offs } = entry;
    if (typeof st !== "string") throw formatError(file, name, "dtype is missing or not a string");
    const dtype = SAFETENSORS_DTYPES[st];
    if (!dtype) {
      throw formatError(
        file,
        name,
        `unknown dtype "${st}"`,
        `r1ts reads ${Object.keys(SAFETENSORS_DTYPES).join(", ")}; convert the checkpoint to one of them`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw formatError(file, name, `shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isCount) || offs[0] > offs[1]) {
      throw formatError(file, name, `data_offsets ${JSON.stringify(offs)} is not [begin, end] with begin <= end`);
    }
    const [begin, end] = offs as [number, number];
    if (dataStart + end > fileSize) {
      throw formatError(
        file,
        name,
        `data_offsets [${begin}, ${end}] run past the end of the file (data is ${fileSize - dataStart} bytes)`,
      );
    }
    const expect = numel(shape) * ELEMENT_BYTES[dtype]!;
    if (end - begin !== expect) {
      throw formatError(
        file,
        name,
        `data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${st} ${JSON.stringify(shape)} needs ${expect}`,
      );
    }
    infos.push({ name, dtype, shape: shape.slice(), file, offset: dataStart + begin, size: expect });
  }
  checkOverlaps(file, infos);
  return { infos, metadata };
}

/** Shared by the single-file and folder sources: a name -> (info, fd) table and the fds to close. */
function makeSource(
  files: string[],
  table: Map<string, { info: TensorInfo; fd: number }>,
  fds: number[],
  metadata: Record<string, string>,
): SafetensorsFile {
  let closed = false;
  const entry = (name: string) => {
    if (closed) throw new Error(`safetensors source ${files[0]} is closed`);
    const e = table.get(name);
    if (!e) throw formatError(files.length === 1 ? files[0] : path.dirname(files[0]), name, "no tensor of this name");
    return e;
  };
  return {
    files,
    metadata,
    names: () => [...table.keys()],
    has: (name) => table.has(name),
    info: (name) => {
      const { info } = entry(name);
      return { ...info, shape: info.shape.slice() };
    },
    load: (name, alloc) => {
      const { info, fd } = entry(name);
      return readTensor(fd, info, alloc);
    },
    close: () => {
      closed = true;
      closeAll(fds);
    },
  };
}

export function openSafetensors(file: string): SafetensorsFile {
  const fd = openOrNotFound(file);
  try {
    const { infos, metadata } = readHeader(file, fd);
    const table = new Map(infos.map((info) => [info.name, { info, fd }]));
    return makeSource([file], table, [fd], metadata);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

function openOrNotFound(file: string): number {
  try {
    return fs.openSync(file, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new R1Error("not_found", `${file}: no such file`, "check the path to the checkpoint");
    }
    throw e;
  }
}

/**
 * A Hugging Face folder: model.safetensors.index.json's weight_map decides which shard holds each tensor;
 * without an index, model.safetensors alone, else every *.safetensors in name order (a name in two files is
 * an error, since nothing says which copy wins).
 */
export function openSafetensorsFolder(dir: string): SafetensorsFile {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new R1Error("not_found", `${dir}: no such directory`, "pass the folder that holds config.json");
  }
  const indexPath = path.join(dir, "model.safetensors.index.json");
  if (fs.existsSync(indexPath)) return openIndexed(dir, indexPath);
  const single = path.join(dir, "model.safetensors");
  if (fs.existsSync(single)) return openSafetensors(single);
  const shards = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".safetensors"))
    .sort();
  if (shards.length === 0) {
    throw new R1Error(
      "not_found",
      `${dir}: no model.safetensors.index.json, model.safetensors or *.safetensors`,
      "download the model weights into this folder",
    );
  }
  const fds: number[] = [];
  try {
    const table = new Map<string, { info: TensorInfo; fd: number }>();
    const metadata: Record<string, string> = {};
    const files = shards.map((s) => path.join(dir, s));
    for (const file of files) {
      const fd = openOrNotFound(file);
      fds.push(fd);
      const h = readHeader(file, fd);
      for (const info of h.infos) {
        const prev = table.get(info.name);
        if (prev) throw formatError(file, info.name, `tensor also present in ${prev.info.file}`);
        table.set(info.name, { info, fd });
      }
      for (const [k, v] of Object.entries(h.metadata)) if (!(k in metadata)) metadata[k] = v;
    }
    return makeSource(files, table, fds, metadata);
  } catch (e) {
    closeAll(fds);
    throw e;
  }
}

function openIndexed(dir: string, indexPath: string): SafetensorsFile {
  let index: unknown;
  try {
    index = JSON.parse(fs.readFileSync(indexPath, "utf8"));
  } catch (e) {
    throw formatError(indexPath, "index", `malformed JSON (${(e as Error).message})`);
  }
  const weightMap = isObject(index) ? index.weight_map : undefined;
  if (!isObject(weightMap)) throw formatError(indexPath, "weight_map", "missing or not an object");
  const shardOf = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== "string" || shard.includes("/") || shard.includes("\\")) {
      throw formatError(indexPath, `weight_map.${name}`, `${JSON.stringify(shard)} is not a shard file name`);
    }
    shardOf.set(name, shard);
  }
  const shardNames = [...new Set(shardOf.values())].sort();
  for (const shard of shardNames) {
    if (!fs.existsSync(path.join(dir, shard))) {
      throw formatError(
        indexPath,
        shard,
        "shard named in the index is missing from the folder",
        "the download is incomplete; fetch the missing shard",
      );
    }
  }
  const fds: number[] = [];
  try {
    const opened = new Map<string, { fd: number; infos: Map<string, TensorInfo>; metadata: Record<string, string> }>();
    for (const shard of shardNames) {
      const file = path.join(dir, shard);
      const fd = openOrNotFound(file);
      fds.push(fd);
      const h = readHeader(file, fd);
      opened.set(shard, { fd, infos: new Map(h.infos.map((i) => [i.name, i])), metadata: h.metadata });
    }
    const table = new Map<string, { info: TensorInfo; fd: number }>();
    for (const [name, shard] of shardOf) {
      const s = opened.get(shard)!;
      const info = s.infos.get(name);
      if (!info) {
        throw formatError(
          indexPath,
          name,
          `listed in weight_map under ${shard}, but ${shard} has no such tensor`,
          "the index and the shards come from different versions; download them again together",
        );
      }
      table.set(name, { info, fd: s.fd });
    }
    const metadata: Record<string, string> = {};
    for (const s of opened.values())
      for (const [k, v] of Object.entries(s.metadata)) if (!(k in metadata)) metadata[k] = v;
    return makeSource(
      shardNames.map((s) => path.join(dir, s)),
      table,
      fds,
      metadata,
    );
  } catch (e) {
    closeAll(fds);
    throw e;
  }
}

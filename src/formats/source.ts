// The one view the model loader has of a checkpoint, whatever the container (safetensors file, sharded HF
// folder, GGUF): names, per-tensor info, and load(name) that reads exactly one tensor's bytes from disk into an
// 8-byte-aligned buffer. Plus the positioned-read helpers both readers share.

import * as fs from "node:fs";
import type { DType } from "../core/dtype.js";
import { formatError } from "../core/errors.js";
import { alignedBytes, type Tensor } from "../core/tensor.js";

export interface TensorInfo {
  name: string;
  dtype: DType;
  /** Row-major, outermost first (a Linear weight is [out, in]). */
  shape: number[];
  file: string;
  /** Absolute byte offset of the first byte in `file`. */
  offset: number;
  size: number;
}

/** GGUF metadata values; safetensors metadata is the string-only subset. */
export type MetadataValue = number | bigint | boolean | string | MetadataValue[];

/** Returns a writable, 8-byte-aligned buffer of exactly `size` bytes for a tensor's storage. */
export type Allocator = (size: number) => Uint8Array;

export interface TensorSource {
  readonly files: string[];
  names(): string[];
  info(name: string): TensorInfo;
  has(name: string): boolean;
  /** Reads one tensor; `alloc` supplies the destination (a kernel backend's memory), else an aligned buffer. */
  load(name: string, alloc?: Allocator): Tensor;
  metadata?: Record<string, MetadataValue>;
  close(): void;
}

/** Node refuses single reads above 2 GiB; larger tensors are read in pieces of this size. */
const MAX_READ = 1 << 30;

/**
 * Fill `buf` from `fd` starting at absolute `position`, looping over short reads. A read that returns 0 bytes
 * before the buffer is full means the file shrank or lied about its size: a format error naming `field`.
 */
export function readFully(fd: number, buf: Uint8Array, position: number, file: string, field: string): void {
  let done = 0;
  while (done < buf.length) {
    const want = Math.min(buf.length - done, MAX_READ);
    const got = fs.readSync(fd, buf, done, want, position + done);
    if (got === 0) {
      throw formatError(file, field, `unexpected end of file at byte ${position + done} (wanted ${buf.length} bytes)`);
    }
    done += got;
  }
}

/** One tensor, read straight into its final aligned buffer: a single positioned read, no intermediate copy. */
export function readTensor(fd: number, info: TensorInfo, alloc?: Allocator): Tensor {
  const bytes = alloc ? alloc(info.size) : alignedBytes(info.size);
  readFully(fd, bytes, info.offset, info.file, info.name);
  return { dtype: info.dtype, shape: info.shape.slice(), bytes };
}

/** Checks that byte ranges [offset, offset+size) do not overlap; zero-sized tensors overlap nothing. */
export function checkOverlaps(file: string, infos: readonly TensorInfo[]): void {
  const sorted = infos.filter((t) => t.size > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (prev.offset + prev.size > cur.offset) {
      throw formatError(
        file,
        cur.name,
        `bytes [${cur.offset}, ${cur.offset + cur.size}) overlap tensor ${prev.name} [${prev.offset}, ${prev.offset + prev.size})`,
      );
    }
  }
}

/** Write all of `buf` at the fd's current position, looping over short writes. */
export function writeFully(fd: number, buf: Uint8Array): void {
  let done = 0;
  while (done < buf.length) {
    done += fs.writeSync(fd, buf, done, Math.min(buf.length - done, MAX_READ));
  }
}

/**
 * Write a file atomically: `fill` writes into `<path>.tmp-<pid>`, which is synced and renamed over `path`; on any
 * error the temporary file is removed and the error rethrown, so readers never see a half-written checkpoint.
 */
export function writeAtomic(path: string, fill: (fd: number) => void): void {
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "w");
    fill(fd);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

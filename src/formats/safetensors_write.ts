// Safetensors writers for tests, benchmarks and the trainer's export. The header lists tensors in the given
// order with contiguous data_offsets and is padded with spaces to a multiple of 8, so every tensor's data starts
// 8-byte aligned when the tensors before it have sizes that are multiples of 8. Files appear atomically.

import * as fs from "node:fs";
import * as path from "node:path";
import type { DType } from "../core/dtype.js";
import { usageError } from "../core/errors.js";
import { byteSize, type Tensor } from "../core/tensor.js";
import { SAFETENSORS_DTYPES } from "./safetensors.js";
import { writeAtomic, writeFully } from "./source.js";

const NAME_OF: Partial<Record<DType, string>> = Object.fromEntries(
  Object.entries(SAFETENSORS_DTYPES).map(([st, dt]) => [dt, st]),
);

function checkTensor(name: string, t: Tensor): string {
  const st = NAME_OF[t.dtype];
  if (!st) throw usageError(`writeSafetensors: tensor ${name} is ${t.dtype}, which safetensors cannot store`);
  const want = byteSize(t.dtype, t.shape);
  if (t.bytes.length !== want) {
    throw usageError(
      `writeSafetensors: tensor ${name} ${t.dtype} [${t.shape.join(", ")}] has ${t.bytes.length} bytes, needs ${want}`,
    );
  }
  return st;
}

/** Header bytes: JSON padded with spaces to a multiple of 8, preceded by its u64 LE length. */
function encodeHeader(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = Object.create(null);
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === "__metadata__") throw usageError('writeSafetensors: "__metadata__" is reserved, not a tensor name');
    const dtype = checkTensor(name, t);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = Buffer.alloc(8 + json.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  return out;
}

export function writeSafetensors(
  file: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): void {
  const header = encodeHeader(tensors, metadata);
  writeAtomic(file, (fd) => {
    writeFully(fd, header);
    for (const t of Object.values(tensors)) writeFully(fd, t.bytes);
  });
}

/**
 * Hugging Face sharded layout: tensors, in the given order, fill model-0000i-of-0000N.safetensors up to
 * maxShardBytes of data each (a larger tensor gets a shard of its own), then model.safetensors.index.json maps
 * every name to its shard. Returns the shard file names.
 */
export function writeSafetensorsSharded(
  dir: string,
  tensors: Record<string, Tensor>,
  maxShardBytes: number,
  metadata?: Record<string, string>,
): string[] {
  if (!(maxShardBytes > 0))
    throw usageError(`writeSafetensorsSharded: maxShardBytes ${maxShardBytes} must be positive`);
  const groups: Record<string, Tensor>[] = [];
  let cur: Record<string, Tensor> = {};
  let curBytes = 0;
  let total = 0;
  for (const [name, t] of Object.entries(tensors)) {
    checkTensor(name, t);
    if (curBytes > 0 && curBytes + t.bytes.length > maxShardBytes) {
      groups.push(cur);
      cur = {};
      curBytes = 0;
    }
    cur[name] = t;
    curBytes += t.bytes.length;
    total += t.bytes.length;
  }
  if (Object.keys(cur).length > 0 || groups.length === 0) groups.push(cur);

  fs.mkdirSync(dir, { recursive: true });
  const n = groups.length;
  const pad5 = (i: number) => String(i).padStart(5, "0");
  const shardNames = groups.map((_, i) => `model-${pad5(i + 1)}-of-${pad5(n)}.safetensors`);
  const weightMap: Record<string, string> = {};
  groups.forEach((g, i) => {
    writeSafetensors(path.join(dir, shardNames[i]), g, metadata);
    for (const name of Object.keys(g)) weightMap[name] = shardNames[i];
  });
  const index = Buffer.from(`${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`);
  writeAtomic(path.join(dir, "model.safetensors.index.json"), (fd) => writeFully(fd, index));
  return shardNames;
}

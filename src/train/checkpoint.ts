// Training checkpoints: one file holding a JSON header (step, history, balancing biases, optimizer step) and the
// raw f32 arrays (weights, Adam m and v) in header order. Written to a temp file, fsynced, then renamed over the
// old one, so a run killed at any instant leaves either the previous checkpoint or the new one, never a torn file.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import type { TinyV3 } from "./model.js";
import type { AdamW } from "./optim.js";

export interface CkptState {
  step: number;
  /** Per logged step: [step, loss, lr, maxVio, ...] as the trainer records it. */
  history: number[][];
  extra?: Record<string, unknown>;
}

const MAGIC = "R1TSCKPT1";

export function saveCheckpoint(path: string, model: TinyV3, opt: AdamW, state: CkptState): void {
  const arrays: [string, Float32Array][] = [];
  for (const [n, p] of model.params) {
    arrays.push([`w:${n}`, p.data], [`m:${n}`, opt.m.get(n)!], [`v:${n}`, opt.v.get(n)!]);
  }
  model.moe.forEach((st, l) => {
    if (st) arrays.push([`bias:${l}`, st.bias]);
  });
  const header = Buffer.from(
    JSON.stringify({
      magic: MAGIC,
      ...state,
      optStep: opt.step,
      arrays: arrays.map(([n, a]) => [n, a.length]),
    }),
  );
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, len);
    writeSync(fd, header);
    for (const [, a] of arrays) writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Restores weights, optimizer moments and biases in place; returns the saved state, or null if no file. */
export function loadCheckpoint(path: string, model: TinyV3, opt?: AdamW): CkptState | null {
  if (!existsSync(path)) return null;
  const buf = readFileSync(path);
  const hlen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + hlen).toString("utf8"));
  if (header.magic !== MAGIC) throw new Error(`${path}: not an r1ts training checkpoint`);
  let off = 8 + hlen;
  for (const [name, n] of header.arrays as [string, number][]) {
    const src = new Float32Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + n * 4));
    off += n * 4;
    const [kind, rest] = [name.slice(0, name.indexOf(":")), name.slice(name.indexOf(":") + 1)];
    if (kind === "w") model.p(rest).data.set(src);
    else if (kind === "m") opt?.m.get(rest)?.set(src);
    else if (kind === "v") opt?.v.get(rest)?.set(src);
    else if (kind === "bias") model.moe[Number(rest)]?.bias.set(src);
  }
  if (opt) opt.step = header.optStep;
  return { step: header.step, history: header.history, extra: header.extra };
}

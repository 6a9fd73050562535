// The control block shared by the caller and the kernel workers (one SharedArrayBuffer). A job is one kernel
// export over an index range [0, n) cut into `chunks` pieces; every thread, the caller included, claims pieces
// with Atomics.add on `next` until none are left, so a worker the OS has descheduled delays nothing (its share
// is taken by whoever is running). Posting a job: seq goes odd (writing), the caller waits until no worker is
// inside the old job (`busy` = 0), writes the job, then seq goes even (ready). Workers spin on seq (low latency
// between the many small decode-step kernels), then sleep in Atomics.wait when idle.

import type { MessagePort } from "node:worker_threads";
import type { WasmMemory, WasmModule } from "../wasm_api.js";

/** Kernel exports callable through the pool, by index (the worker resolves them by name). */
export const KERNEL_OPS = [
  "mm_f32",
  "mm_bf16",
  "mm_f16",
  "mm_f8",
  "mm_q8_0",
  "mm_q4_0",
  "mm_q4_k",
  "mm_q6_k",
  "attention",
  "mla_attention",
  "quantize_q8",
  "quantize_rows",
  "read_bw",
  "prefill_k",
  "mm_multi",
  "swiglu",
] as const;
export type KernelOp = (typeof KERNEL_OPS)[number];

export const OP_EXIT = -1;

export const MAX_ARGS = 16;
/** Int32 fields of the control block. */
export const SEQ = 0;
export const BUSY = 1;
export const NEXT = 2;
export const OP = 3;
export const ARENA = 4;
/** Range [0, N) cut into CHUNKS; thread-chunk bounds go into args[RANGE_ARG] and args[RANGE_ARG + 1]. */
export const N = 5;
export const CHUNKS = 6;
export const RANGE_ARG = 7;
/** Optional per-thread scratch: args[SCRATCH_ARG] += thread * SCRATCH_STRIDE (-1: none). */
export const SCRATCH_ARG = 8;
export const SCRATCH_STRIDE = 9;
/** How many arenas exist: a worker drains its port for new memories until it has this many. */
export const ARENAS = 10;
export const FAILED = 11;
export const READY = 12; // counts workers that have started
/** Threads taking part (ids 0..ACTIVE-1); the others sit the job out. */
export const ACTIVE = 13;
export const ARGS_BYTE = 64;
export const CTL_BYTES = ARGS_BYTE + MAX_ARGS * 8;

/**
 * Spin iterations before an idle worker sleeps in Atomics.wait (~0.2-1 ms of polling; R1TS_SPIN overrides).
 * Spinning keeps dispatch at ~1 µs between the ~200 small kernels of a decode step on a quiet machine; on an
 * oversubscribed one it burns the time slices the caller needs, so lower it there.
 */
export const SPIN = Number(process.env.R1TS_SPIN ?? 1 << 16);

export interface WorkerInit {
  module: WasmModule;
  ctl: SharedArrayBuffer;
  /** Thread id (the caller is 0, workers 1..). */
  id: number;
  port: MessagePort;
}

/** Sent on a worker's port for each new arena, in order. */
export interface AddArenaMessage {
  kind: "add-arena";
  memory: WasmMemory;
}

export type KernelFn = (...a: number[]) => void;

/**
 * Claims chunks of the posted job until none are left, running fns[op] on each with the range (and this
 * thread's scratch) patched into a private copy of the args. Shared by the caller and the workers.
 */
export function runChunks(ctl: Int32Array, shared: Float64Array, fns: KernelFn[], id: number): void {
  const n = ctl[N];
  const chunks = ctl[CHUNKS];
  const ra = ctl[RANGE_ARG];
  const sa = ctl[SCRATCH_ARG];
  const a = Array.from(shared);
  if (sa >= 0) a[sa] += id * ctl[SCRATCH_STRIDE];
  const fn = fns[ctl[OP]];
  for (;;) {
    const c = Atomics.add(ctl, NEXT, 1);
    if (c >= chunks) return;
    a[ra] = Math.floor((n * c) / chunks);
    a[ra + 1] = Math.floor((n * (c + 1)) / chunks);
    fn(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
  }
}

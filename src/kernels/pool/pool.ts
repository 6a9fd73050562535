// The worker pool: threads-1 workers plus the calling thread, all running the same kernel module over the same
// shared arenas (protocol.ts describes the control block). run() posts a job, claims chunks itself, then spins
// until no worker is still inside the job. Synchronous from the caller's side, as Kernels methods are: worker
// start-up is awaited with Atomics.wait, which Node allows on the main thread.

import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import type { WasmMemory, WasmModule } from "../wasm_api.js";
import {
  ACTIVE,
  type AddArenaMessage,
  ARENA,
  ARENAS,
  ARGS_BYTE,
  BUSY,
  CHUNKS,
  CTL_BYTES,
  FAILED,
  KERNEL_OPS,
  type KernelFn,
  type KernelOp,
  MAX_ARGS,
  N,
  NEXT,
  OP,
  OP_EXIT,
  RANGE_ARG,
  READY,
  runChunks,
  SCRATCH_ARG,
  SCRATCH_STRIDE,
  SEQ,
  type WorkerInit,
} from "./protocol.js";

const START_TIMEOUT_MS = 30_000;

export interface Job {
  op: KernelOp;
  arena: number;
  /** Arguments; args[rangeArg], args[rangeArg + 1] receive each chunk's [i0, i1). */
  args: number[];
  rangeArg: number;
  n: number;
  chunks: number;
  /** Per-thread scratch: args[scratchArg] + thread * scratchStride. */
  scratchArg?: number;
  scratchStride?: number;
  /** Threads taking part, the caller included (<= size + 1). */
  threads: number;
}

export class Pool {
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private seq = 0;

  constructor(
    module: WasmModule,
    readonly size: number,
  ) {
    const sab = new SharedArrayBuffer(CTL_BYTES);
    this.ctl = new Int32Array(sab, 0, ARGS_BYTE / 4);
    this.args = new Float64Array(sab, ARGS_BYTE, MAX_ARGS);
    for (let i = 0; i < size; i++) {
      const { port1, port2 } = new MessageChannel();
      const init: WorkerInit = { module, ctl: sab, id: i + 1, port: port2 };
      const worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: init, transferList: [port2] });
      worker.unref();
      port1.unref();
      this.workers.push(worker);
      this.ports.push(port1);
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let r = Atomics.load(this.ctl, READY); r < size; r = Atomics.load(this.ctl, READY)) {
      if (Date.now() > deadline)
        throw new Error(`kernel workers: ${r} of ${size} started within ${START_TIMEOUT_MS / 1000} s`);
      Atomics.wait(this.ctl, READY, r, 100);
    }
  }

  /** Workers instantiate the module over `memory` before their next job (arenas are numbered in order). */
  addArena(memory: WasmMemory): void {
    for (const p of this.ports) p.postMessage({ kind: "add-arena", memory } satisfies AddArenaMessage);
    Atomics.add(this.ctl, ARENAS, 1);
  }

  /** Runs `job` on every thread; `fns` are the caller's own exports for the job's arena. */
  run(job: Job, fns: KernelFn[]): void {
    this.post(KERNEL_OPS.indexOf(job.op), job);
    runChunks(this.ctl, this.args, fns, 0);
    for (let busy = Atomics.load(this.ctl, BUSY); busy !== 0; busy = Atomics.load(this.ctl, BUSY));
    if (this.ctl[FAILED]) {
      this.ctl[FAILED] = 0;
      throw new Error("a kernel worker failed (see its stderr)");
    }
  }

  private post(op: number, job?: Job): void {
    const c = this.ctl;
    Atomics.store(c, SEQ, ++this.seq * 2 - 1); // odd: writing
    while (Atomics.load(c, BUSY) !== 0);
    if (job) {
      this.args.fill(0);
      job.args.forEach((v, i) => {
        this.args[i] = v;
      });
      c[ARENA] = job.arena;
      c[N] = job.n;
      c[CHUNKS] = job.chunks;
      c[RANGE_ARG] = job.rangeArg;
      c[SCRATCH_ARG] = job.scratchArg ?? -1;
      c[SCRATCH_STRIDE] = job.scratchStride ?? 0;
      c[ACTIVE] = job.threads;
    }
    c[OP] = op;
    Atomics.store(c, NEXT, 0);
    Atomics.store(c, SEQ, this.seq * 2); // even: ready
    Atomics.notify(c, SEQ);
  }

  close(): void {
    this.post(OP_EXIT);
    for (const w of this.workers) void w.terminate();
  }
}

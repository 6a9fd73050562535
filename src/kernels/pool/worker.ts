// A kernel worker: one instance of the kernel module per arena (each over that arena's shared memory), then a
// loop that spins on the control block's seq, joins each job (claiming chunks alongside the caller) and sleeps
// when idle. Never returns to its event loop: arena memories arrive through receiveMessageOnPort, synchronously.

import { receiveMessageOnPort, workerData } from "node:worker_threads";
import { WA } from "../wasm_api.js";
import {
  ACTIVE,
  type AddArenaMessage,
  ARENA,
  ARENAS,
  ARGS_BYTE,
  BUSY,
  FAILED,
  KERNEL_OPS,
  type KernelFn,
  MAX_ARGS,
  OP,
  OP_EXIT,
  READY,
  runChunks,
  SEQ,
  SPIN,
  type WorkerInit,
} from "./protocol.js";

const init = workerData as WorkerInit;
const ctl = new Int32Array(init.ctl, 0, ARGS_BYTE / 4);
const args = new Float64Array(init.ctl, ARGS_BYTE, MAX_ARGS);
const fns: KernelFn[][] = [];

/** Instantiates the module over every arena announced so far (their memories are queued on the port). */
function syncArenas(): void {
  const want = Atomics.load(ctl, ARENAS);
  while (fns.length < want) {
    const msg = receiveMessageOnPort(init.port)?.message as AddArenaMessage | undefined;
    if (!msg) continue; // posted but not yet delivered: it is on its way
    const inst = new WA.Instance(init.module, { env: { memory: msg.memory } });
    fns.push(KERNEL_OPS.map((name) => inst.exports[name] as KernelFn));
  }
}

Atomics.add(ctl, READY, 1);
Atomics.notify(ctl, READY);
let last = 0;
for (;;) {
  let seq = Atomics.load(ctl, SEQ);
  for (let i = 0; (seq === last || seq & 1) && i < SPIN; i++) seq = Atomics.load(ctl, SEQ);
  if (seq === last || seq & 1) {
    Atomics.wait(ctl, SEQ, seq);
    continue;
  }
  Atomics.add(ctl, BUSY, 1);
  if (Atomics.load(ctl, SEQ) !== seq) {
    // The caller began writing a newer job between our read and our increment: let it, then look again.
    Atomics.sub(ctl, BUSY, 1);
    continue;
  }
  last = seq;
  if (ctl[OP] === OP_EXIT) break;
  if (init.id < ctl[ACTIVE])
    try {
      syncArenas();
      runChunks(ctl, args, fns[ctl[ARENA]], init.id);
    } catch (e) {
      Atomics.store(ctl, FAILED, 1);
      console.error(`kernel worker ${init.id}: ${KERNEL_OPS[ctl[OP]]} failed:`, e);
    }
  Atomics.sub(ctl, BUSY, 1);
}

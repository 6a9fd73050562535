// Shared WebAssembly memories ("arenas") that hold the weights and the kernels' scratch. A wasm32 memory tops
// out at 4 GiB, so a model takes as many arenas as its weights need: alloc() bump-allocates in the newest arena
// and opens another when a tensor does not fit. Each arena is laid out
//   [0, 64 KiB)              the kernel module's own static data (exp tables), rewritten on every instantiation
//   [64 KiB, 64 KiB + S)     scratch: activations, quantized activations, outputs, KV rows (reused every call)
//   [64 KiB + S, ...)        weights, 64-byte aligned, growing the memory page by page

import { WA, type WasmMemory } from "./wasm_api.js";

const PAGE = 65536;
const RESERVED = PAGE;
const MAX_PAGES = 65536;
/** Keep the top of the 4 GiB address space clear so `ptr + offset` arithmetic in wasm never wraps. */
const TOP_SLACK = 16 * PAGE;
const ALIGN = 64;

export class Arena {
  readonly memory: WasmMemory;
  /** Every SharedArrayBuffer object this memory has handed out (each grow() makes a new one). */
  readonly buffers = new Set<ArrayBufferLike>();
  readonly scratch: number;
  private top: number;
  private u8: Uint8Array;

  constructor(
    readonly index: number,
    readonly scratchBytes: number,
    /** Bytes this arena may grow to (tests use a few MiB to exercise many arenas). */
    private readonly limit = MAX_PAGES * PAGE - TOP_SLACK,
  ) {
    const pages = Math.ceil((RESERVED + scratchBytes) / PAGE);
    this.memory = new WA.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
    this.scratch = RESERVED;
    this.top = pages * PAGE;
    this.u8 = new Uint8Array(this.memory.buffer);
    this.buffers.add(this.memory.buffer);
  }

  get capacity(): number {
    return this.limit;
  }

  fits(bytes: number): boolean {
    return this.top + bytes <= this.capacity;
  }

  /** `bytes` zeroed bytes in this arena, 64-byte aligned; the caller checked fits(). */
  alloc(bytes: number): { ptr: number; view: Uint8Array } {
    const ptr = this.top;
    const end = ptr + Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Grow in >= 64 MiB steps so a model's thousands of tensors cost few grow() calls.
      const need = Math.ceil((end - have) / PAGE);
      const pages = Math.min(MAX_PAGES - have / PAGE, Math.max(need, 1024));
      this.memory.grow(pages);
      this.buffers.add(this.memory.buffer);
      this.u8 = new Uint8Array(this.memory.buffer);
    }
    this.top = end;
    return { ptr, view: new Uint8Array(this.memory.buffer, ptr, bytes) };
  }

  /** The whole memory as bytes (refreshed after growth). */
  bytes(): Uint8Array {
    if (this.u8.byteLength !== this.memory.buffer.byteLength) this.u8 = new Uint8Array(this.memory.buffer);
    return this.u8;
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  get used(): number {
    return this.top;
  }
}

/** Bump allocation within an arena's scratch region, reset per kernel call. */
export class ScratchPlan {
  private off: number;
  constructor(private readonly arena: Arena) {
    this.off = arena.scratch;
  }
  take(bytes: number): number {
    const p = this.off;
    this.off += Math.ceil(bytes / ALIGN) * ALIGN;
    if (this.off > this.arena.scratch + this.arena.scratchBytes)
      throw new Error(
        `wasm kernels: scratch overflow (${this.off - this.arena.scratch} > ${this.arena.scratchBytes} bytes)`,
      );
    return p;
  }
  get free(): number {
    return this.arena.scratch + this.arena.scratchBytes - this.off;
  }
}

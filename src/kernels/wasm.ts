// The WebAssembly backend: AssemblyScript SIMD kernels (assembly/) over shared-memory arenas, with matmul and
// attention split across a worker pool. The feed-forward runs whole in wasm (gate and up as one job after one
// quantization of the input, swiglu in place, then down), and q/k/v share one job the same way: a 1.5B decode
// step was ~200 small jobs with 10-20 µs of dispatch and input quantization each, plus a JS swiglu of 150 µs a
// layer. rmsnorm and rope stay on the reference loops: a few µs a call, and copying their operands into wasm
// memory would cost as much as computing them.
//
// Weights are read where they lie when they were loaded through alloc() (into an arena); a weight that lives in
// an ordinary JS buffer is copied into an arena on first use (the whole underlying ArrayBuffer, once) until the
// loader allocates through alloc().

import { Arena, ScratchPlan } from "./arena.js";
import { composedFfn, type FfnWeights, type Kernels } from "./kernels.js";
import { Pool } from "./pool/pool.js";
import { KERNEL_OPS, type KernelFn, type KernelOp } from "./pool/protocol.js";
import { refKernels } from "./ref.js";
import { WA, type WasmModule } from "./wasm_api.js";
import { compileKernels, type WasmVariant } from "./wasm_module.js";
import type { Weight } from "./weight.js";

export interface WasmOptions {
  /** Threads including the caller's (default: 1). */
  threads?: number;
  /** Scratch bytes per arena (activations, outputs, KV rows of one call); default 256 MiB. */
  scratchBytes?: number;
  variant?: WasmVariant;
  /** Upper bound of one arena (default: just under 4 GiB); tests shrink it to exercise many arenas. */
  arenaBytes?: number;
}

export interface WasmKernels extends Kernels {
  readonly threads: number;
  readonly variant: WasmVariant;
  alloc(bytes: number): Uint8Array;
  allocCache(floats: number): Float32Array;
  /** Use only the first n threads from now on (1..threads): the bench's 1-vs-2-thread scaling on one model. */
  setThreads(n: number): void;
  /** Read bandwidth (bytes/s) these kernels reach streaming `bytes` of arena memory on the active threads. */
  measureReadBandwidth(bytes: number, reps?: number): number;
  /** Bytes allocated in arenas (weights plus scratch) and the number of arenas. */
  memoryStats(): { arenas: number; bytes: number };
  close(): void;
}

const QUANT_OPS: Partial<Record<Weight["dtype"], KernelOp>> = {
  q8_0: "mm_q8_0",
  q4_0: "mm_q4_0",
  q4_k: "mm_q4_k",
  q6_k: "mm_q6_k",
};
const FLOAT_OPS: Partial<Record<Weight["dtype"], KernelOp>> = {
  f32: "mm_f32",
  bf16: "mm_bf16",
  f16: "mm_f16",
  f8_e4m3: "mm_f8",
  f8_e5m2: "mm_f8",
};
/** mm_multi's kind codes (assembly/fused.ts); FP8 has per-block scales and keeps its own path. */
const MULTI_KIND: Partial<Record<Weight["dtype"], number>> = {
  q8_0: 0,
  q4_0: 1,
  q4_k: 2,
  q6_k: 3,
  f32: 4,
  bf16: 5,
  f16: 6,
};
/** Bytes of one mm_multi descriptor (assembly/fused.ts DESC_BYTES). */
const DESC_BYTES = 32;

/** A fused job's weights, all in one arena: their addresses and whether they read Q8 blocks or f32. */
interface Fusable {
  arena: Arena;
  ptrs: number[];
  quant: boolean;
}

/**
 * KV-cache bytes this backend places in arenas (allocCache); past it, caches are ordinary arrays that attention
 * copies in per call. R1TS_CACHE_MB overrides.
 */
const CACHE_BUDGET = Number(process.env.R1TS_CACHE_MB ?? 2048) * 2 ** 20;

/** Below this many multiply-adds a job runs on the calling thread alone (dispatch costs ~10 µs). */
const MIN_PARALLEL_MACS = 1 << 16;
/** Pieces per thread: enough that a descheduled thread's share is small, few enough to keep claims cheap. */
const CHUNKS_PER_THREAD = 16;

export function wasmKernels(opts: WasmOptions | number = {}): WasmKernels {
  return new WasmBackend(typeof opts === "number" ? { threads: opts } : opts);
}

class WasmBackend implements WasmKernels {
  readonly name: string;
  readonly threads: number;
  readonly variant: WasmVariant;
  private readonly module: WasmModule;
  private readonly scratchBytes: number;
  private readonly arenaBytes?: number;
  private readonly arenas: Arena[] = [];
  /** Per arena: the caller's instance's kernel exports, indexed like KERNEL_OPS. */
  private readonly fns: KernelFn[][] = [];
  private readonly byBuffer = new Map<ArrayBufferLike, Arena>();
  private readonly copies = new WeakMap<ArrayBufferLike, { arena: Arena; base: number }>();
  private readonly pool?: Pool;
  private active: number;
  /** Arena regions of collected KV caches, by byte size, for the next allocCache of that size. */
  private readonly freeCaches = new Map<number, { arena: Arena; ptr: number }[]>();
  private cacheBytes = 0;
  private readonly cacheReaper = new FinalizationRegistry<{ arena: Arena; ptr: number; bytes: number }>((r) => {
    const list = this.freeCaches.get(r.bytes) ?? [];
    list.push({ arena: r.arena, ptr: r.ptr });
    this.freeCaches.set(r.bytes, list);
  });

  constructor(o: WasmOptions) {
    const c = compileKernels(o.variant);
    this.module = c.module;
    this.variant = c.variant;
    this.threads = Math.max(1, Math.floor(o.threads ?? 1));
    this.scratchBytes = o.scratchBytes ?? 256 << 20;
    this.arenaBytes = o.arenaBytes;
    this.name = `wasm-${this.variant}x${this.threads}`;
    this.active = this.threads;
    if (this.threads > 1) this.pool = new Pool(this.module, this.threads - 1);
  }

  // ---- memory -------------------------------------------------------------------------------------------

  private newArena(): Arena {
    const a = new Arena(this.arenas.length, this.scratchBytes, this.arenaBytes);
    const inst = new WA.Instance(this.module, { env: { memory: a.memory } });
    this.arenas.push(a);
    this.fns.push(KERNEL_OPS.map((name) => inst.exports[name] as KernelFn));
    for (const b of a.buffers) this.byBuffer.set(b, a);
    this.pool?.addArena(a.memory);
    return a;
  }

  private arena0(): Arena {
    return this.arenas[0] ?? this.newArena();
  }

  private place(bytes: number): { arena: Arena; ptr: number; view: Uint8Array } {
    let a = this.arenas[this.arenas.length - 1];
    if (!a?.fits(bytes)) {
      a = this.newArena();
      if (!a.fits(bytes))
        throw new Error(`wasm kernels: a ${bytes}-byte tensor exceeds one arena (${a.capacity} bytes)`);
    }
    const { ptr, view } = a.alloc(bytes);
    for (const b of a.buffers) this.byBuffer.set(b, a);
    return { arena: a, ptr, view };
  }

  alloc(bytes: number): Uint8Array {
    return this.place(bytes).view;
  }

  /**
   * Arenas are bump-only, so a cache's region is recycled, not freed: when the returned array is collected its
   * region goes to a free list by size (a server's requests mostly share one context size) and the next cache
   * of that size takes it. Past CACHE_BUDGET new caches are ordinary arrays.
   */
  allocCache(floats: number): Float32Array {
    const bytes = floats * 4;
    let r = this.freeCaches.get(bytes)?.pop();
    if (!r) {
      if (this.cacheBytes + bytes > CACHE_BUDGET) return new Float32Array(floats);
      const p = this.place(bytes);
      r = { arena: p.arena, ptr: p.ptr };
      this.cacheBytes += bytes;
    }
    const view = r.arena.f32(r.ptr, floats);
    view.fill(0);
    this.cacheReaper.register(view, { ...r, bytes });
    return view;
  }

  memoryStats(): { arenas: number; bytes: number } {
    return { arenas: this.arenas.length, bytes: this.arenas.reduce((s, a) => s + a.used, 0) };
  }

  /** Arena and address of a weight's bytes, copying its whole backing buffer into an arena on first sight. */
  private locate(v: ArrayBufferView): { arena: Arena; ptr: number } {
    const a = this.byBuffer.get(v.buffer);
    if (a) return { arena: a, ptr: v.byteOffset };
    let c = this.copies.get(v.buffer);
    if (!c) {
      const p = this.place(v.buffer.byteLength);
      p.view.set(new Uint8Array(v.buffer));
      c = { arena: p.arena, base: p.ptr };
      this.copies.set(v.buffer, c);
    }
    return { arena: c.arena, ptr: c.base + v.byteOffset };
  }

  /**
   * Runs kernel `op` over the index range [0, n) (args[rangeArg], args[rangeArg + 1] get each piece's bounds),
   * cut into pieces that the active threads claim as they go; small jobs run on the caller alone.
   */
  private parallel(
    arena: Arena,
    op: KernelOp,
    n: number,
    work: number,
    args: number[],
    rangeArg: number,
    scratch?: [number, number],
  ): void {
    const fns = this.fns[arena.index];
    if (!this.pool || this.active <= 1 || work < MIN_PARALLEL_MACS || n < 2) {
      args[rangeArg] = 0;
      args[rangeArg + 1] = n;
      fns[KERNEL_OPS.indexOf(op)](...args);
      return;
    }
    const chunks = Math.min(n, this.active * CHUNKS_PER_THREAD);
    this.pool.run(
      {
        op,
        arena: arena.index,
        args,
        rangeArg,
        n,
        chunks,
        scratchArg: scratch?.[0],
        scratchStride: scratch?.[1],
        threads: this.active,
      },
      fns,
    );
  }

  setThreads(n: number): void {
    this.active = Math.max(1, Math.min(this.threads, Math.floor(n)));
  }

  measureReadBandwidth(bytes: number, reps = 5): number {
    const per = 1 << 20;
    const n = Math.ceil(bytes / per);
    const { arena, ptr } = this.place(n * per + 64 * n);
    arena.bytes().fill(1, ptr, ptr + n * per);
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      this.parallel(arena, "read_bw", n, Number.POSITIVE_INFINITY, [ptr, per, 0, 0, ptr + n * per], 2);
      best = Math.min(best, performance.now() - t0);
    }
    return (n * per) / (best / 1000);
  }

  // ---- ops ------------------------------------------------------------------------------------------------

  matmul(out: Float32Array, x: Float32Array, w: Weight, T: number): void {
    const qop = QUANT_OPS[w.dtype];
    const fop = FLOAT_OPS[w.dtype];
    if (!qop && !fop) {
      refKernels.matmul(out, x, w, T);
      return;
    }
    const { rows, cols } = w;
    const { arena, ptr: wp } = this.locate(w.bytes);
    const perToken = this.inputBytes(cols, qop !== undefined) + rows * 4 + 64;
    const scaleBytes =
      (w.scale ? w.scale.byteLength + 64 : 0) +
      (qop ? (cols * 2 + (cols / 32) * 8 + 64) * this.threads + this.prefillReserve(cols) : 0);
    this.chunks(arena, x, T, cols, perToken, scaleBytes + 4096, `one row of ${rows}x${cols}`, (t0, tc, plan, xp) => {
      const op = plan.take(tc * rows * 4);
      const work = rows * cols * tc;
      if (qop) {
        const lanes = this.lanes([w], tc);
        const [, q8, q16, d, s, qx] = this.quantized(arena, plan, xp, tc, cols, true, lanes);
        if (tc >= 4 && (w.dtype === "q4_k" || w.dtype === "q6_k")) {
          // Prefill: unpack each k-quant row once into per-thread scratch, then four tokens per pass.
          const per = cols * 2 + (cols / 32) * 8;
          const sp = plan.take(per * this.threads);
          const kind = w.dtype === "q4_k" ? 0 : 1;
          const args = [kind, wp, w.rowStride, 0, 0, cols, q16, d, s, tc, op, rows, sp];
          this.parallel(arena, "prefill_k", rows, work, args, 3, [12, per]);
        } else {
          const [sp, per] = this.prefillScratch(plan, lanes, cols);
          const args = [wp, w.rowStride, 0, 0, cols, q8, q16, d, s, tc, op, rows, qx, sp];
          this.parallel(arena, qop, rows, work, args, 2, [13, per]);
        }
      } else if (fop === "mm_f8") {
        let sp = 0;
        let sCols = 0;
        if (w.scale) {
          sp = plan.take(w.scale.byteLength);
          arena.f32(sp, w.scale.length).set(w.scale);
          sCols = Math.ceil(cols / 128);
        }
        const e5 = w.dtype === "f8_e5m2" ? 1 : 0;
        const off = w.scaleRowOffset ?? 0;
        this.parallel(
          arena,
          "mm_f8",
          rows,
          work,
          [wp, w.rowStride, 0, 0, cols, xp, tc, op, rows, sp, sCols, off, e5],
          2,
        );
      } else {
        this.parallel(arena, fop!, rows, work, [wp, w.rowStride, 0, 0, cols, xp, tc, op, rows], 2);
      }
      out.set(arena.f32(op, tc * rows), t0 * rows);
    });
  }

  /**
   * Runs `body` over chunks of the T tokens that fit the scratch (`per` bytes a token beside `reserve` fixed
   * bytes), each chunk's rows of x [T, cols] copied into the arena at xp; throws when one token does not fit.
   */
  private chunks(
    arena: Arena,
    x: Float32Array,
    T: number,
    cols: number,
    per: number,
    reserve: number,
    what: string,
    body: (t0: number, tc: number, plan: ScratchPlan, xp: number) => void,
  ): void {
    const chunk = Math.floor((this.scratchBytes - reserve) / per);
    if (chunk < 1) throw new Error(`wasm kernels: ${what} exceeds scratch`);
    for (let t0 = 0; t0 < T; t0 += chunk) {
      const tc = Math.min(chunk, T - t0);
      const plan = new ScratchPlan(arena);
      const xp = plan.take(tc * cols * 4);
      arena.f32(xp, tc * cols).set(x.subarray(t0 * cols, (t0 + tc) * cols));
      body(t0, tc, plan, xp);
    }
  }

  /**
   * The weights as one mm_multi job, or undefined where that cannot run: mixed or FP8 dtypes, different
   * widths, several arenas, or a k-quant prefill (T >= 4 has its own unpacking path).
   */
  private fusable(ws: Weight[], T: number): Fusable | undefined {
    const quant = QUANT_OPS[ws[0].dtype] !== undefined;
    let arena: Arena | undefined;
    const ptrs: number[] = [];
    for (const w of ws) {
      if (MULTI_KIND[w.dtype] === undefined || (QUANT_OPS[w.dtype] !== undefined) !== quant) return undefined;
      if (w.cols !== ws[0].cols || (quant && w.cols % 32 !== 0)) return undefined;
      if (T >= 4 && (w.dtype === "q4_k" || w.dtype === "q6_k")) return undefined;
      const loc = this.locate(w.bytes);
      if (arena && loc.arena !== arena) return undefined;
      arena = loc.arena;
      ptrs.push(loc.ptr);
    }
    return arena && { arena, ptrs, quant };
  }

  /** Whether a job over ws at T tokens runs the Q8_0 prefill tile (assembly/prefill_q8.ts), which reads qx. */
  private lanes(ws: Weight[], T: number): boolean {
    return T >= 4 && ws.some((w) => w.dtype === "q8_0");
  }

  /** Bytes a thread of the Q8_0 prefill tile needs: two widened rows of KC columns, their scales, a pin slot. */
  private lanesScratch(cols: number): number {
    const kc = Math.min(cols, 2048); // prefill_q8.ts KC
    return 2 * (kc * 2 + kc / 8) + 128;
  }

  /** The lanes tile's per-thread scratch as [address, bytes a thread], or [0, 0] where the job does not run it. */
  private prefillScratch(plan: ScratchPlan, lanes: boolean, cols: number): [number, number] {
    if (!lanes) return [0, 0];
    const per = this.lanesScratch(cols);
    return [plan.take(per * this.threads), per];
  }

  /**
   * Fixed scratch bytes a chunk reserves for the lanes tile: its per-thread scratch, and qx's rounding up to a
   * whole group of four tokens beyond the per-token share that inputBytes counts (plus each take's alignment).
   */
  private prefillReserve(cols: number): number {
    return this.lanesScratch(cols) * this.threads + this.qxBytes(cols, 4) + 256;
  }

  /** Bytes of one token's q16 row for an input of `cols` (assembly/quant_act.ts stride16). */
  private q16Bytes(cols: number): number {
    return this.variant === "relaxed" ? cols * 4 + Math.ceil(cols / 128) * 32 : cols * 2;
  }

  /** Scratch bytes per token of an input of `cols` (f32, plus its Q8 blocks and its share of qx when quant). */
  private inputBytes(cols: number, quant: boolean): number {
    return cols * 4 + (quant ? cols + this.q16Bytes(cols) + this.qxBytes(cols, 4) / 4 + (cols / 32) * 8 + 256 : 64);
  }

  /** Bytes of T tokens' interleaved Q8_0 prefill activations (assembly/prefill_q8.ts qxGroup, per 4 tokens). */
  private qxBytes(cols: number, T: number): number {
    return Math.ceil(T / 4) * (cols * 8 + cols / 2);
  }

  /**
   * A job's input regions [x, q8, q16, d, s, qx] for T rows of `cols` at xp (already in the arena): quantized to
   * Q8 blocks on the caller when the weights want them; qx (the interleaved copy) only for the lanes tile.
   */
  private quantized(
    arena: Arena,
    plan: ScratchPlan,
    xp: number,
    T: number,
    cols: number,
    quant: boolean,
    lanes: boolean,
  ): number[] {
    if (!quant) return [xp, 0, 0, 0, 0, 0];
    const q8 = plan.take(T * cols);
    const q16 = plan.take(T * this.q16Bytes(cols));
    const d = plan.take((T * cols) / 8);
    const s = plan.take((T * cols) / 8);
    const qx = lanes ? plan.take(this.qxBytes(cols, T)) : 0;
    this.quantize(arena, xp, T, cols, [q8, q16, d, s], qx);
    return [xp, q8, q16, d, s, qx];
  }

  /** Q8 blocks of T rows of `cols` f32 at xp into [q8, q16, d, s]; a prefill's rows are split across the pool. */
  private quantize(arena: Arena, xp: number, T: number, cols: number, regions: number[], qx: number): void {
    this.parallel(arena, "quantize_rows", T, T * cols, [xp, cols, ...regions, 0, 0, qx], 6);
  }

  /**
   * One pool job over every row of ws, all reading the T rows of f32 input at xp (quantized here when the weights
   * want Q8 blocks), out[j] [T, ws[j].rows] at outs[j].
   */
  private multi(f: Fusable, plan: ScratchPlan, xp: number, T: number, ws: Weight[], outs: number[]): void {
    const cols = ws[0].cols;
    const lanes = this.lanes(ws, T);
    const [x, q8, q16, qd, qs, qx] = this.quantized(f.arena, plan, xp, T, cols, f.quant, lanes);
    const desc = plan.take(DESC_BYTES * ws.length);
    const d = new Int32Array(f.arena.memory.buffer, desc, (DESC_BYTES / 4) * ws.length);
    let rows = 0;
    ws.forEach((w, j) => {
      d.set([MULTI_KIND[w.dtype]!, f.ptrs[j], w.rowStride, rows, w.rows, outs[j]], (DESC_BYTES / 4) * j);
      rows += w.rows;
    });
    const [sp, per] = this.prefillScratch(plan, lanes, cols);
    const args = [desc, ws.length, 0, 0, cols, x, q8, q16, qd, qs, T, qx, sp];
    this.parallel(f.arena, "mm_multi", rows, rows * cols * T, args, 2, [12, per]);
  }

  /** In-arena swiglu: out = silu(g) * u over n floats, split across the pool when large. */
  private swigluAt(arena: Arena, g: number, u: number, out: number, n: number): void {
    this.parallel(arena, "swiglu", n, n, [g, u, out, 0, 0], 3);
  }

  matmulMany(outs: Float32Array[], x: Float32Array, ws: Weight[], T: number): void {
    const f = ws.length > 1 ? this.fusable(ws, T) : undefined;
    if (!f) {
      for (const [j, w] of ws.entries()) this.matmul(outs[j], x, w, T);
      return;
    }
    const cols = ws[0].cols;
    const rows = ws.reduce((a, w) => a + w.rows, 0);
    const per = this.inputBytes(cols, f.quant) + rows * 4 + 64 * ws.length;
    const reserve = 4096 + DESC_BYTES * ws.length + this.prefillReserve(cols);
    this.chunks(f.arena, x, T, cols, per, reserve, `one row of ${rows}x${cols}`, (t0, tc, plan, xp) => {
      const ops = ws.map((w) => plan.take(tc * w.rows * 4));
      this.multi(f, plan, xp, tc, ws, ops);
      for (const [j, w] of ws.entries()) outs[j].set(f.arena.f32(ops[j], tc * w.rows), t0 * w.rows);
    });
  }

  ffn(out: Float32Array, h: Float32Array, w: FfnWeights, T: number): void {
    const gu = this.fusable([w.gate, w.up], T);
    const dn = gu && this.fusable([w.down], T);
    const hidden = w.gate.cols;
    const inter = w.gate.rows;
    if (!gu || !dn || dn.arena !== gu.arena) {
      composedFfn(this, out, h, w, T);
      return;
    }
    const { arena } = gu;
    const rows = w.down.rows;
    const per = this.inputBytes(hidden, gu.quant) + inter * 4 + this.inputBytes(inter, dn.quant) + rows * 4 + 256;
    const reserve = 8192 + this.prefillReserve(hidden) + this.prefillReserve(inter);
    this.chunks(arena, h, T, hidden, per, reserve, `one token of a ${inter}-wide feed-forward`, (t0, tc, plan, xp) => {
      const gp = plan.take(tc * inter * 4);
      const up = plan.take(tc * inter * 4);
      this.multi(gu, plan, xp, tc, [w.gate, w.up], [gp, up]);
      this.swigluAt(arena, gp, up, gp, tc * inter);
      const op = plan.take(tc * rows * 4);
      this.multi(dn, plan, gp, tc, [w.down], [op]);
      out.set(arena.f32(op, tc * rows), t0 * rows);
    });
  }

  rmsnorm(out: Float32Array, x: Float32Array, g: Float32Array, T: number, dim: number, eps: number): void {
    refKernels.rmsnorm(out, x, g, T, dim, eps);
  }

  rope(
    x: Float32Array,
    T: number,
    nHeads: number,
    stride: number,
    offset: number,
    ropeDim: number,
    cos: Float32Array,
    sin: Float32Array,
    interleaved: boolean,
  ): void {
    refKernels.rope(x, T, nHeads, stride, offset, ropeDim, cos, sin, interleaved);
  }

  swiglu(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
    const arena = this.arena0();
    if (n * 12 + 4096 > this.scratchBytes) {
      refKernels.swiglu(out, gate, up, n);
      return;
    }
    const plan = new ScratchPlan(arena);
    const g = this.stage(arena, plan, gate, n);
    const u = this.stage(arena, plan, up, n);
    const o = plan.take(n * 4);
    this.swigluAt(arena, g, u, o, n);
    out.set(arena.f32(o, n));
  }

  /** Copies f32 rows into scratch unless they already live in this arena. */
  private stage(arena: Arena, plan: ScratchPlan, a: Float32Array, n: number): number {
    if (this.byBuffer.get(a.buffer) === arena) return a.byteOffset;
    const p = plan.take(n * 4);
    arena.f32(p, n).set(a.subarray(0, n));
    return p;
  }

  attention(
    out: Float32Array,
    q: Float32Array,
    kCache: Float32Array,
    vCache: Float32Array,
    T: number,
    pos0: number,
    nHeads: number,
    nKv: number,
    hd: number,
    scale: number,
  ): void {
    const n = pos0 + T;
    const items = T * nHeads;
    const group = nHeads / nKv;
    const need = (2 * items * hd + 2 * n * nKv * hd + this.threads * group * (n + 16)) * 4 + 8192;
    if (need > this.scratchBytes) {
      refKernels.attention(out, q, kCache, vCache, T, pos0, nHeads, nKv, hd, scale);
      return;
    }
    // Run in the arena that holds the cache when it was allocated through alloc(): then only q is copied.
    const arena = this.byBuffer.get(kCache.buffer) ?? this.arena0();
    const plan = new ScratchPlan(arena);
    const qp = this.stage(arena, plan, q, items * hd);
    const kp = this.stage(arena, plan, kCache, n * nKv * hd);
    const vp = this.stage(arena, plan, vCache, n * nKv * hd);
    const op = plan.take(items * hd * 4);
    const stride = group * (n + 16) * 4;
    const pp = plan.take(this.threads * stride);
    const args = [op, qp, kp, vp, T, pos0, nHeads, nKv, hd, scale, pp, 0, 0];
    this.parallel(arena, "attention", T * nKv, items * n * hd * 2, args, 11, [10, stride]);
    out.set(arena.f32(op, items * hd));
  }

  mlaAttention(
    out: Float32Array,
    qLat: Float32Array,
    qPe: Float32Array,
    cCache: Float32Array,
    peCache: Float32Array,
    T: number,
    pos0: number,
    nHeads: number,
    rank: number,
    ropeDim: number,
    scale: number,
  ): void {
    const n = pos0 + T;
    const items = T * nHeads;
    const need = (2 * items * rank + items * ropeDim + n * (rank + ropeDim) + this.threads * (n + 16)) * 4 + 8192;
    if (need > this.scratchBytes) {
      refKernels.mlaAttention(out, qLat, qPe, cCache, peCache, T, pos0, nHeads, rank, ropeDim, scale);
      return;
    }
    const arena = this.byBuffer.get(cCache.buffer) ?? this.arena0();
    const plan = new ScratchPlan(arena);
    const qp = this.stage(arena, plan, qLat, items * rank);
    const pq = this.stage(arena, plan, qPe, items * ropeDim);
    const cp = this.stage(arena, plan, cCache, n * rank);
    const ep = this.stage(arena, plan, peCache, n * ropeDim);
    const op = plan.take(items * rank * 4);
    const pp = plan.take(this.threads * (n + 16) * 4);
    const stride = (n + 16) * 4;
    const args = [op, qp, pq, cp, ep, T, pos0, nHeads, rank, ropeDim, scale, pp, 0, 0];
    this.parallel(arena, "mla_attention", items, items * n * (rank * 2 + ropeDim), args, 12, [11, stride]);
    out.set(arena.f32(op, items * rank));
  }

  close(): void {
    this.pool?.close();
  }
}

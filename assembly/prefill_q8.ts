// Q8_0 prefill (T >= 4, both builds): tokens in the lanes. quantize_q8 also writes the activations of each group
// of four tokens interleaved (qx, below), so one i16x8 load holds two consecutive elements of four tokens and one
// pmaddwd against a broadcast weight pair adds those two elements' products to all four tokens' i32 lanes. No
// horizontal reduction is left (session 11's tile, one row against four tokens' rows, spent ~5 ops per block and
// token reducing and pinning four i32x4 dots), and each weight pair is a broadcast load (a load-port op) from the
// row widened once into per-thread scratch: the vector ALU does pmaddwd + paddd per 8 MACs plus the per-block
// scale. Two rows share every activation load. Same-process A/B of this file against that tile (AMX Xeon VM, 2
// threads, T = 512, one run each): 8960x1536 1.08x, 1536x8960 0.97x; the 1.5B model's prefill 1.04x (means of 4
// rounds). By op count (~70 vector ops per 256 MACs against a floor of 64 for pmaddwd + paddd) little is left
// inside the tile: wasm's 128-bit SIMD has no VNNI in V8 11.3, where llama.cpp runs AVX512-VNNI or AMX tiles.
//
// qx layout, group g = t >> 2 of tokens 4g..4g+3 at qx + g * qxGroup(n):
//   i16 pairs: element pair j (elements 2j, 2j+1) of token 4g+u at j*16 + u*4   (8n bytes)
//   f32 block scales: block b of token 4g+u at 8n + b*16 + u*4                   (n/2 bytes)
// Scratch per thread (src/kernels/wasm.ts prefillScratch): two widened rows of min(n, KC) columns, their f32
// block scales, and a pin slot: 2 * (2 KC + KC/8) + 16 bytes at most.

import { f16, pin } from "./common";

/** Bytes of one group of four tokens in qx. */
// @ts-ignore: decorator
@inline export function qxGroup(n: i32): usize {
  return (<usize>n << 3) + (<usize>n >> 1);
}

/** Columns per pass: two widened rows of KC (8 KB) and a group's KC activations (16 KB) stay in L1. */
const KC: i32 = 2048;

/** Widens Q8_0 row wr (nb blocks) into i16 at wq, its block scales as f32 at ws. */
function widen(wr: usize, nb: i32, wq: usize, ws: usize): void {
  for (let b = 0; b < nb; b++) {
    const p = wr + <usize>b * 34;
    const o = wq + (<usize>b << 6);
    v128.store(o, v128.load8x8_s(p + 2));
    v128.store(o, v128.load8x8_s(p + 2, 8), 16);
    v128.store(o, v128.load8x8_s(p + 2, 16), 32);
    v128.store(o, v128.load8x8_s(p + 2, 24), 48);
    store<f32>(ws + (<usize>b << 2), f16(load<u16>(p)));
  }
}

/** i32x4 (four tokens) partial dot of four element pairs: broadcast weight pairs at w times activations v, u, y, z. */
// @ts-ignore: decorator
@inline function quad4(w: usize, v: v128, u: v128, y: v128, z: v128): v128 {
  const p = i32x4.add(i32x4.dot_i16x8_s(v128.load32_splat(w), v), i32x4.dot_i16x8_s(v128.load32_splat(w + 4), u));
  const q = i32x4.add(i32x4.dot_i16x8_s(v128.load32_splat(w + 8), y), i32x4.dot_i16x8_s(v128.load32_splat(w + 12), z));
  return i32x4.add(p, q);
}

/** c + the block's i32 dots i (four tokens) times its scales: the row's dw (f32 at ws) times the tokens' da. */
// @ts-ignore: decorator
@inline function scale(c: v128, i: v128, ws: usize, da: v128): v128 {
  return f32x4.add(c, f32x4.mul(f32x4.convert_i32x4_s(i), f32x4.mul(v128.load32_splat(ws), da)));
}

/**
 * Writes lane u of c (token t + u) to out[(t + u) * outRows + r], or adds it there when `add` (a later column
 * chunk).
 */
// @ts-ignore: decorator
@inline function put(c: v128, add: bool, out: usize, t: i32, r: i32, outRows: i32): void {
  const o = out + (<usize>(t * outRows + r) << 2);
  const os = <usize>outRows << 2;
  const z: f32 = 0;
  store<f32>(o, (add ? load<f32>(o) : z) + f32x4.extract_lane(c, 0));
  store<f32>(o + os, (add ? load<f32>(o + os) : z) + f32x4.extract_lane(c, 1));
  store<f32>(o + 2 * os, (add ? load<f32>(o + 2 * os) : z) + f32x4.extract_lane(c, 2));
  store<f32>(o + 3 * os, (add ? load<f32>(o + 3 * os) : z) + f32x4.extract_lane(c, 3));
}

/**
 * Rows [r0, r1) times tokens [0, T4) (T4 a multiple of 4) from the interleaved activations at qx, out[t * outRows
 * + r]. Loops: token tiles (~256 KB of a chunk's activations, in L2), column chunks of KC, row pairs (widened
 * once per tile and chunk), groups of four tokens, blocks. A lone last row runs the same arithmetic as a paired
 * one, so any split of the rows gives the same results bit for bit.
 */
export function prefill_q8(w: usize, stride: i32, r0: i32, r1: i32, n: i32, qx: usize, T4: i32, out: usize, outRows: i32, scratch: usize): void {
  const gs = qxGroup(n);
  const kc = min(n, KC);
  const sA = scratch;
  const sB = scratch + (<usize>kc << 1);
  const dA = sB + (<usize>kc << 1);
  const dB = dA + (<usize>kc >> 3);
  const pp = dB + (<usize>kc >> 3); // pin() slot
  const TT = max(4, (131072 / kc) & ~3);
  for (let tb = 0; tb < T4; tb += TT) {
    const te = min(T4, tb + TT);
    for (let k0 = 0; k0 < n; k0 += kc) {
      const kb = min(kc, n - k0) >> 5;
      const more = k0 > 0;
      for (let r = r0; r < r1; r += 2) {
        const two = r + 1 < r1;
        const wr = w + <usize>r * stride + <usize>(k0 >> 5) * 34;
        widen(wr, kb, sA, dA);
        if (two) widen(wr + <usize>stride, kb, sB, dB);
        // A lone row runs as its own pair (row B reads row A's scratch; its result is dropped): no branch inside.
        const sb = two ? sB : sA;
        const db = two ? dB : dA;
        for (let t = tb; t < te; t += 4) {
          const xg = qx + <usize>(t >> 2) * gs;
          let x = xg + (<usize>k0 << 3);
          let dg = xg + (<usize>n << 3) + (<usize>(k0 >> 5) << 4);
          let cA = f32x4.splat(0);
          let cB = f32x4.splat(0);
          let wa = sA;
          let wb = sb;
          let fa = dA;
          let fb = db;
          // Four element pairs per step and one pin per row and step. Against the old tile: unpinned, V8 issues
          // every load of the block first and spills (0.77x); a pin per pmaddwd costs a store each (0.96x); one
          // per eight pairs spills (0.91x).
          for (const xe = x + (<usize>kb << 8); x < xe; x += 256) {
            let v = v128.load(x);
            let u = v128.load(x, 16);
            let y = v128.load(x, 32);
            let z = v128.load(x, 48);
            let a = pin(pp, quad4(wa, v, u, y, z));
            let c = pin(pp, quad4(wb, v, u, y, z));
            v = v128.load(x, 64); u = v128.load(x, 80); y = v128.load(x, 96); z = v128.load(x, 112);
            a = pin(pp, i32x4.add(a, quad4(wa + 16, v, u, y, z)));
            c = pin(pp, i32x4.add(c, quad4(wb + 16, v, u, y, z)));
            v = v128.load(x, 128); u = v128.load(x, 144); y = v128.load(x, 160); z = v128.load(x, 176);
            a = pin(pp, i32x4.add(a, quad4(wa + 32, v, u, y, z)));
            c = pin(pp, i32x4.add(c, quad4(wb + 32, v, u, y, z)));
            v = v128.load(x, 192); u = v128.load(x, 208); y = v128.load(x, 224); z = v128.load(x, 240);
            a = i32x4.add(a, quad4(wa + 48, v, u, y, z));
            const da = v128.load(dg);
            cA = scale(cA, a, fa, da);
            cB = scale(cB, i32x4.add(c, quad4(wb + 48, v, u, y, z)), fb, da);
            wa += 64;
            wb += 64;
            fa += 4;
            fb += 4;
            dg += 16;
          }
          put(cA, more, out, t, r, outRows);
          if (two) put(cB, more, out, t, r + 1, outRows);
        }
      }
    }
  }
}

// Block-quantized weights times Q8 activations (quant_act.ts): out[t*outRows + r] = dot(W[r], x[t]) for rows
// [r0, r1) and T tokens. Rows are the outer loop so a weight row is read from memory once and stays in L1
// while every token's activations pass over it (prefill reads the weights once, not T times).
// Block layouts are ggml's (src/core/quant/ggml.ts describes them byte by byte).

import { f16, hsum, P112, pair, pin, quad, rowAt } from "./common";
import { prefill_q8 } from "./prefill_q8";
import { row16, udot } from "./quant_act";

/**
 * The f16 scales of four consecutive Q8_0 blocks (at p, p+34, p+68, p+102) as f32x4: gathered into the high
 * halves of the i32 lanes, then common.ts f16()'s trick per lane (an arithmetic shift right 3 is its left shift 13
 * of the high half; the mask also drops the low half's bits).
 */
// @ts-ignore: decorator
@inline function f16x4(p: usize): v128 {
  let v = v128.load16_splat(p);
  v = v128.load16_lane(p, v, 3, 34);
  v = v128.load16_lane(p, v, 5, 68);
  v = v128.load16_lane(p, v, 7, 102);
  return f32x4.mul(v128.and(i32x4.shr_s(v, 3), i32x4.splat(0x8fffe000)), f32x4.splat(P112));
}

/** Relaxed build: dotB of the Q8_0 weights at q against its activations already loaded (max(q, 0): p0, p1; max(-q, 0): n0, n1). */
// @ts-ignore: decorator
@inline function dotPN(q: usize, p0: v128, p1: v128, n0: v128, n1: v128): v128 {
  const w0 = v128.load(q);
  const w1 = v128.load(q, 16);
  const x0 = i16x8.sub(udot(w0, p0), udot(w0, n0));
  const x1 = i16x8.sub(udot(w1, p1), udot(w1, n1));
  return i32x4.add(i32x4.extadd_pairwise_i16x8_s(x0), i32x4.extadd_pairwise_i16x8_s(x1));
}

/**
 * i32x4 partial dots of the 32 int8 weights at q (one Q8_0 block) with the block's activations at a (the
 * decode loop). Plain build: a is the int8 q row, both operands widened as they load (load8x8_s, a pmovsxbw
 * with a memory operand). Relaxed build: a is the max(q, 0) row and a + gap the max(-q, 0) one (quant_act.ts):
 * w * q = w * max(q, 0) - w * max(-q, 0), and the difference of the two i16 pair sums is exact in i16 (only one
 * of the pair's terms is non-zero per element, so it is the true |w0 q0 + w1 q1| <= 2 * 128 * 127).
 */
// @ts-ignore: decorator
@inline function dotB(q: usize, a: usize, gap: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return dotPN(q, v128.load(a), v128.load(a, 16), v128.load(a + gap), v128.load(a + gap, 16));
  // The int8 activations rather than their i16 copy (which the k-quant prefill uses): the same op count,
  // and half the bytes, so a long row's activations stay in L1 (the down projection's 8960 columns are 9 KB of
  // int8 against 18 KB of i16; with the i16 copy that matvec ran at 9.2 GB/s against 14.3 at 4480).
  const x = i32x4.add(
    i32x4.dot_i16x8_s(v128.load8x8_s(q), v128.load8x8_s(a)),
    i32x4.dot_i16x8_s(v128.load8x8_s(q, 8), v128.load8x8_s(a, 8)),
  );
  return i32x4.add(
    x,
    i32x4.add(
      i32x4.dot_i16x8_s(v128.load8x8_s(q, 16), v128.load8x8_s(a, 16)),
      i32x4.dot_i16x8_s(v128.load8x8_s(q, 24), v128.load8x8_s(a, 24)),
    ),
  );
}

/**
 * Relaxed build, decode: rows rA and rB (rowAt's next two, from two of its streams) in one pass, each block's
 * activations loaded once for both.
 */
// @ts-ignore: decorator
@inline function rowPairQ8(wA: usize, wB: usize, nb: i32, a: usize, gap: usize, db: usize, opA: usize, opB: usize): void {
  const nb4 = nb & ~3;
  let accA = f32x4.splat(0);
  let accB = f32x4.splat(0);
  let qa = wA;
  let qb = wB;
  for (const w4 = wA + <usize>nb4 * 34; qa < w4; qa += 136) {
    let p0 = v128.load(a);
    let p1 = v128.load(a, 16);
    let n0 = v128.load(a + gap);
    let n1 = v128.load(a + gap, 16);
    const xA0 = pin(opA, dotPN(qa + 2, p0, p1, n0, n1));
    const xB0 = pin(opB, dotPN(qb + 2, p0, p1, n0, n1));
    p0 = v128.load(a, 32);
    p1 = v128.load(a, 48);
    n0 = v128.load(a + gap, 32);
    n1 = v128.load(a + gap, 48);
    const xA1 = pin(opA, dotPN(qa + 36, p0, p1, n0, n1));
    const xB1 = pin(opB, dotPN(qb + 36, p0, p1, n0, n1));
    p0 = v128.load(a, 64);
    p1 = v128.load(a, 80);
    n0 = v128.load(a + gap, 64);
    n1 = v128.load(a + gap, 80);
    const xA2 = pin(opA, dotPN(qa + 70, p0, p1, n0, n1));
    const xB2 = pin(opB, dotPN(qb + 70, p0, p1, n0, n1));
    p0 = v128.load(a, 96);
    p1 = v128.load(a, 112);
    n0 = v128.load(a + gap, 96);
    n1 = v128.load(a + gap, 112);
    const xA3 = pin(opA, dotPN(qa + 104, p0, p1, n0, n1));
    const xB3 = pin(opB, dotPN(qb + 104, p0, p1, n0, n1));
    const da = v128.load(db);
    accA = f32x4.add(accA, f32x4.mul(f32x4.convert_i32x4_s(quad(pair(xA0, xA1), pair(xA2, xA3))), f32x4.mul(f16x4(qa), da)));
    accB = f32x4.add(accB, f32x4.mul(f32x4.convert_i32x4_s(quad(pair(xB0, xB1), pair(xB2, xB3))), f32x4.mul(f16x4(qb), da)));
    a += 128;
    db += 16;
    qb += 136;
  }
  for (const we = wA + <usize>nb * 34; qa < we; qa += 34) {
    const da = load<f32>(db);
    accA = f32x4.add(accA, f32x4.mul(f32x4.convert_i32x4_s(dotB(qa + 2, a, gap)), f32x4.splat(f16(load<u16>(qa)) * da)));
    accB = f32x4.add(accB, f32x4.mul(f32x4.convert_i32x4_s(dotB(qb + 2, a, gap)), f32x4.splat(f16(load<u16>(qb)) * da)));
    a += 32;
    db += 4;
    qb += 34;
  }
  store<f32>(opA, hsum(accA));
  store<f32>(opB, hsum(accB));
}

/**
 * Q8_0, x ~ dw * q per 32-element block. Tokens in whole groups of four (T >= 4) go to the prefill tile
 * (prefill_q8.ts, on the interleaved activations at qx, with per-thread scratch); the rest one token at a time.
 * Those work on groups of four blocks: their four i32x4 dots are reduced to one (pair, quad), converted once
 * and multiplied by the four [dw * da] at once, dw gathered by f16x4 and da one vector load (a token's block
 * scales are contiguous). Leftover blocks (nb % 4) go one by one.
 */
export function mm_q8_0(w: usize, stride: i32, r0: i32, r1: i32, n: i32, q8: usize, q16: usize, d: usize, s: usize, T: i32, out: usize, outRows: i32, qx: usize, scratch: usize): void {
  const nb = n >> 5;
  const nb4 = nb & ~3;
  const T4 = T & ~3;
  const dstep = <usize>nb << 2; // d bytes per token
  if (T4) prefill_q8(w, stride, r0, r1, n, qx, T4, out, outRows, scratch);
  let k0 = 0;
  if (ASC_FEATURE_RELAXED_SIMD) {
    for (; k0 + 1 < r1 - r0; k0 += 2) {
      const rA = rowAt(r0, r1 - r0, k0);
      const rB = rowAt(r0, r1 - r0, k0 + 1);
      for (let t = T4; t < T; t++)
        rowPairQ8(w + <usize>rA * stride, w + <usize>rB * stride, nb, row16(q16, t, n) + (<usize>n << 1), <usize>n, d + <usize>t * dstep, out + (<usize>(t * outRows + rA) << 2), out + (<usize>(t * outRows + rB) << 2));
    }
  }
  for (let k = k0; k < r1 - r0; k++) {
    const r = rowAt(r0, r1 - r0, k);
    const wr = w + <usize>r * stride;
    for (let t = T4; t < T; t++) {
      // dotB's activations: the int8 q row (plain), the max(q, 0) row with max(-q, 0) gap bytes on (relaxed)
      let a = ASC_FEATURE_RELAXED_SIMD ? row16(q16, t, n) + (<usize>n << 1) : q8 + <usize>(t * n);
      const gap = <usize>n;
      let db = d + <usize>t * dstep;
      const op = out + (<usize>(t * outRows + r) << 2);
      let acc = f32x4.splat(0);
      let wb = wr;
      for (const w4 = wr + <usize>nb4 * 34; wb < w4; wb += 136) {
        const x0 = pin(op, dotB(wb + 2, a, gap));
        const x1 = pin(op, dotB(wb + 36, a + 32, gap));
        const x2 = pin(op, dotB(wb + 70, a + 64, gap));
        const x3 = pin(op, dotB(wb + 104, a + 96, gap));
        acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(quad(pair(x0, x1), pair(x2, x3))), f32x4.mul(f16x4(wb), v128.load(db))));
        a += 128;
        db += 16;
      }
      for (const we = wr + <usize>nb * 34; wb < we; wb += 34) {
        acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(dotB(wb + 2, a, gap)), f32x4.splat(f16(load<u16>(wb)) * load<f32>(db))));
        a += 32;
        db += 4;
      }
      store<f32>(op, hsum(acc));
    }
  }
}

/**
 * Q4_0, x ~ dw * (u - 8) per 32-element block, u the nibble (low nibbles: elements 0-15, high: 16-31). Relaxed
 * build: the nibbles go unsigned into the relaxed dot, and the -8 comes off through the block's sum of q,
 * sum((u - 8) * q) = sum(u * q) - 8 * s (as -2s in each of the four lanes).
 */
export function mm_q4_0(w: usize, stride: i32, r0: i32, r1: i32, n: i32, q8: usize, q16: usize, d: usize, s: usize, T: i32, out: usize, outRows: i32): void {
  const nb = n >> 5;
  const mask = i8x16.splat(15);
  const eight = i8x16.splat(8);
  for (let k = 0; k < r1 - r0; k++) {
    const r = rowAt(r0, r1 - r0, k);
    const wr = w + <usize>r * stride;
    for (let t = 0; t < T; t++) {
      const a8 = q8 + <usize>(t * n);
      const a16 = row16(q16, t, n);
      const ad = d + (<usize>(t * nb) << 2);
      const as = s + (<usize>(t * nb) << 2);
      let acc = f32x4.splat(0);
      for (let b = 0; b < nb; b++) {
        const wb = wr + <usize>b * 18;
        const v = v128.load(wb, 2);
        const o = <usize>(b << 5);
        let i: v128;
        if (ASC_FEATURE_RELAXED_SIMD) {
          const u = i16x8.add(udot(v128.load(a8 + o), v128.and(v, mask)), udot(v128.load(a8 + o, 16), v128.and(i16x8.shr_u(v, 4), mask)));
          i = i32x4.sub(i32x4.extadd_pairwise_i16x8_s(u), i32x4.splat(load<i32>(as + (<usize>b << 2)) << 1));
        } else {
          const lo = i8x16.sub(v128.and(v, mask), eight);
          const hi = i8x16.sub(i8x16.shr_u(v, 4), eight);
          const a = a16 + (o << 1);
          i = i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(lo), v128.load(a)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(lo), v128.load(a, 16)));
          i = i32x4.add(i, i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(hi), v128.load(a, 32)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(hi), v128.load(a, 48))));
        }
        acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i), f32x4.splat(f16(load<u16>(wb)) * load<f32>(ad + (<usize>b << 2)))));
      }
      store<f32>(out + (<usize>(t * outRows + r) << 2), hsum(acc));
    }
  }
}

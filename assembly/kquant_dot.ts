// Decode-path k-quant kernels (Q4_K, Q6_K) times Q8 activations (quant_act.ts): the same calling convention
// as quant_dot.ts: out[t*outRows + r] = dot(W[r], x[t]) for rows [r0, r1) and T tokens. Prefill (T >= 4 on
// the plain build) goes to prefill_k.ts instead. Block layouts are ggml's (src/core/quant/ggml.ts).
//
// Shape of both kernels, per 256-element superblock: the inner code only dots widened (i16) weights with the
// i16 activations into one i32x4 per sub-block (i32x4.dot_i16x8_s, one pmaddwd each); four sub-blocks' i32x4 are
// transposed and summed into one i32x4 (pair, quad), and one convert plus f32x4 multiplies by the four
// sub-blocks' [weight scale * sub-block scale * activation scale] do the float work of four. Scales and mins are
// unpacked once per superblock, as vectors. The relaxed-SIMD build keeps this shape, but its sub-block dots put
// the unsigned weight values (Q4_K nibbles, Q6_K's 6-bit values) straight into the relaxed dot with the signed
// int8 activations: no widening, 16 multiplies per op.

import { f16s, hsum, pair, pin, quad, rowAt } from "./common";
import { row16, udot } from "./quant_act";

/** i32x4 partial dots of two i16x8 weight vectors (16 elements) with activation row a16 at element o. */
// @ts-ignore: decorator
@inline function dotW(lo: v128, hi: v128, a16: usize, o: usize): v128 {
  const a = a16 + (o << 1);
  return i32x4.add(i32x4.dot_i16x8_s(lo, v128.load(a)), i32x4.dot_i16x8_s(hi, v128.load(a, 16)));
}

/**
 * i32x4 partial dots of one Q6_K sub-block (16 weights) with the i16 activations at element o (plain build);
 * q holds 4*(w-32) as i8 (the 6-bit value in the top six bits, sign flipped), which goes into the high byte of
 * an i16 lane and is dotted as 1024*(w-32).
 */
// @ts-ignore: decorator
@inline function dotQ6(q: v128, a16: usize, o: usize): v128 {
  const z = i8x16.splat(0);
  const lo = i8x16.shuffle(z, q, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const hi = i8x16.shuffle(z, q, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  return dotW(lo, hi, a16, o);
}

/**
 * Relaxed build: i32x4 partial dots of one Q6_K sub-block, u its 16 6-bit values in [0, 63], with the int8
 * activations x: sum(u * q). The -32 offset comes off four sub-blocks at a time (chunkQ6).
 */
// @ts-ignore: decorator
@inline function dotQ6r(u: v128, x: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_s(udot(x, u));
}

/**
 * pair() of the two sub-blocks of the 32 Q4_K weight bytes at q (low nibbles: activations [o, o+32); high
 * nibbles: [o+32, o+64)). Plain build: eight bytes at a time zero-extended to i16 by the load itself, then an
 * i16 and / shift splits the nibbles, already widened. (An i16 shift then a byte mask splits them on the relaxed
 * build too: i8x16.shr_u has no x86 instruction and costs more.)
 */
// @ts-ignore: decorator
@inline function groupQ4(q: usize, a8: usize, a16: usize, o: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return groupQ4x(q, v128.load(a8 + o), v128.load(a8 + o, 16), v128.load(a8 + o, 32), v128.load(a8 + o, 48));
  const m = i16x8.splat(15);
  const x0 = v128.load8x8_u(q);
  const x1 = v128.load8x8_u(q, 8);
  const x2 = v128.load8x8_u(q, 16);
  const x3 = v128.load8x8_u(q, 24);
  const lo = i32x4.add(dotW(v128.and(x0, m), v128.and(x1, m), a16, o), dotW(v128.and(x2, m), v128.and(x3, m), a16, o + 16));
  const hi = i32x4.add(dotW(i16x8.shr_u(x0, 4), i16x8.shr_u(x1, 4), a16, o + 32), dotW(i16x8.shr_u(x2, 4), i16x8.shr_u(x3, 4), a16, o + 48));
  return pair(lo, hi);
}

/**
 * Relaxed build: groupQ4 with the 64 int8 activations already loaded (x0..x3, 16 each), so that two rows can
 * share the loads. Each sub-block's two i16 pair-sum vectors (|lane| <= 2 * 15 * 127) add before widening.
 */
// @ts-ignore: decorator
@inline function groupQ4x(q: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const v0 = v128.load(q);
  const v1 = v128.load(q, 16);
  const m = i8x16.splat(15);
  const lo = i16x8.add(udot(x0, v128.and(v0, m)), udot(x1, v128.and(v1, m)));
  const hi = i16x8.add(udot(x2, v128.and(i16x8.shr_u(v0, 4), m)), udot(x3, v128.and(i16x8.shr_u(v1, 4), m)));
  return pair(i32x4.extadd_pairwise_i16x8_s(lo), i32x4.extadd_pairwise_i16x8_s(hi));
}

/**
 * One Q4_K superblock's float work: acc plus sum_j da_j * (d * sc_j * dot_j - dmin * m_j * s_j) for its eight
 * sub-blocks, from the groups' pair()s p0..p3 (wb: the superblock, ab: its byte offset in d and s).
 */
// @ts-ignore: decorator
@inline function superQ4(wb: usize, p0: v128, p1: v128, p2: v128, p3: v128, ad: usize, as: usize, ab: usize, acc: v128): v128 {
  const dd = f32x4.splat(f16s(load<u16>(wb)));
  const dmin = f32x4.splat(f16s(load<u16>(wb, 2)));
  // The 12 scale bytes as u32 lanes A, B, C (ggml get_scale_min_k4, four sub-blocks per lane):
  // [A & 0x3f.., B & 0x3f.., C & 0x0f.. | (A >> 2) & 0x30.., (C >> 4) & 0x0f.. | (B >> 2) & 0x30..]
  // = bytes sc0-3, m0-3, sc4-7, m4-7.
  const k = v128.load(wb, 4);
  const kc = v128.shuffle<i32>(k, i32x4.shr_u(k, 4), 0, 1, 2, 6);
  const kh = i32x4.shr_u(v128.shuffle<i32>(k, k, 0, 1, 0, 1), 2);
  const sm = v128.or(
    v128.and(kc, i32x4(0x3f3f3f3f, 0x3f3f3f3f, 0x0f0f0f0f, 0x0f0f0f0f)),
    v128.and(kh, i32x4(0, 0, 0x30303030, 0x30303030)),
  );
  const sl = i16x8.extend_low_i8x16_u(sm);
  const sh = i16x8.extend_high_i8x16_u(sm);
  // four sub-blocks per vector
  const i0 = f32x4.mul(f32x4.convert_i32x4_s(quad(p0, p1)), f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(sl)));
  const m0 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(sl)), f32x4.convert_i32x4_s(v128.load(as + ab)));
  acc = f32x4.add(acc, f32x4.mul(v128.load(ad + ab), f32x4.sub(f32x4.mul(i0, dd), f32x4.mul(m0, dmin))));
  const i1 = f32x4.mul(f32x4.convert_i32x4_s(quad(p2, p3)), f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(sh)));
  const m1 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(sh)), f32x4.convert_i32x4_s(v128.load(as + ab, 16)));
  return f32x4.add(acc, f32x4.mul(v128.load(ad + ab, 16), f32x4.sub(f32x4.mul(i1, dd), f32x4.mul(m1, dmin))));
}

/**
 * Q4_K: x ~ d * sc_j * q - dmin * m_j per 32-element sub-block j (8 per superblock; the low nibbles of weight
 * bytes [32g, 32g+32) are sub-block 2g, the high ones 2g+1), so
 * dot = sum_j da_j * (d * sc_j * sum(q * a) - dmin * m_j * s_j), s_j the activation block's sum of q.
 */
export function mm_q4_k(w: usize, stride: i32, r0: i32, r1: i32, n: i32, q8: usize, q16: usize, d: usize, s: usize, T: i32, out: usize, outRows: i32): void {
  const nb = n >> 5;
  const nsb = n >> 8;
  const nr = r1 - r0;
  let k0 = 0;
  if (ASC_FEATURE_RELAXED_SIMD) {
    // rowAt's next two rows (two of its streams) in one pass, each group's activations loaded once for both
    // (as mm_q8_0).
    for (; k0 + 1 < nr; k0 += 2) {
      const rA = rowAt(r0, nr, k0);
      const rB = rowAt(r0, nr, k0 + 1);
      const wA = w + <usize>rA * stride;
      const wB = w + <usize>rB * stride;
      for (let t = 0; t < T; t++) {
        const a8 = q8 + <usize>(t * n);
        const ad = d + (<usize>(t * nb) << 2);
        const as = s + (<usize>(t * nb) << 2);
        const opA = out + (<usize>(t * outRows + rA) << 2);
        const opB = out + (<usize>(t * outRows + rB) << 2);
        let accA = f32x4.splat(0);
        let accB = f32x4.splat(0);
        for (let sb = 0; sb < nsb; sb++) {
          const qa = wA + <usize>sb * 144;
          const qb = wB + <usize>sb * 144;
          const o = a8 + <usize>(sb << 8);
          let x0 = v128.load(o);
          let x1 = v128.load(o, 16);
          let x2 = v128.load(o, 32);
          let x3 = v128.load(o, 48);
          const a0 = pin(opA, groupQ4x(qa + 16, x0, x1, x2, x3));
          const b0 = pin(opB, groupQ4x(qb + 16, x0, x1, x2, x3));
          x0 = v128.load(o, 64);
          x1 = v128.load(o, 80);
          x2 = v128.load(o, 96);
          x3 = v128.load(o, 112);
          const a1 = pin(opA, groupQ4x(qa + 48, x0, x1, x2, x3));
          const b1 = pin(opB, groupQ4x(qb + 48, x0, x1, x2, x3));
          x0 = v128.load(o, 128);
          x1 = v128.load(o, 144);
          x2 = v128.load(o, 160);
          x3 = v128.load(o, 176);
          const a2 = pin(opA, groupQ4x(qa + 80, x0, x1, x2, x3));
          const b2 = pin(opB, groupQ4x(qb + 80, x0, x1, x2, x3));
          x0 = v128.load(o, 192);
          x1 = v128.load(o, 208);
          x2 = v128.load(o, 224);
          x3 = v128.load(o, 240);
          const a3 = pin(opA, groupQ4x(qa + 112, x0, x1, x2, x3));
          const b3 = pin(opB, groupQ4x(qb + 112, x0, x1, x2, x3));
          const ab = <usize>(sb << 5);
          accA = superQ4(qa, a0, a1, a2, a3, ad, as, ab, accA);
          accB = superQ4(qb, b0, b1, b2, b3, ad, as, ab, accB);
        }
        store<f32>(opA, hsum(accA));
        store<f32>(opB, hsum(accB));
      }
    }
  }
  for (let k = k0; k < nr; k++) {
    const r = rowAt(r0, nr, k);
    const wr = w + <usize>r * stride;
    for (let t = 0; t < T; t++) {
      const a8 = q8 + <usize>(t * n);
      const a16 = row16(q16, t, n);
      const ad = d + (<usize>(t * nb) << 2);
      const as = s + (<usize>(t * nb) << 2);
      const op = out + (<usize>(t * outRows + r) << 2);
      let acc = f32x4.splat(0);
      for (let sb = 0; sb < nsb; sb++) {
        const wb = wr + <usize>sb * 144;
        const o = <usize>(sb << 8);
        const p0 = pin(op, groupQ4(wb + 16, a8, a16, o));
        const p1 = pin(op, groupQ4(wb + 48, a8, a16, o + 64));
        const p2 = pin(op, groupQ4(wb + 80, a8, a16, o + 128));
        const p3 = pin(op, groupQ4(wb + 112, a8, a16, o + 192));
        acc = superQ4(wb, p0, p1, p2, p3, ad, as, <usize>(sb << 5), acc);
      }
      store<f32>(op, hsum(acc));
    }
  }
}

/**
 * quad() of Q6_K sub-blocks c, c+2, c+4, c+6 of a 128-element half (ql at q, qh at qh): the 16 weights
 * [16c, 16c+16) of each of its four 32-element runs. Plain build: each weight w is rebuilt as the byte
 * 4 * (w - 32): low nibble into bits 2-5, its qh bit pair into bits 6-7 with the top bit flipped
 * ((w << 2) ^ 0x80). The i16 shifts move bits across the byte boundary too; the byte masks drop exactly those.
 */
// @ts-ignore: decorator
@inline function chunkQ6(q: usize, qh: usize, a8: usize, a16: usize, o: usize, op: usize, c32: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD)
    return chunkQ6x(q, qh, v128.load(a8 + o), v128.load(a8 + o, 32), v128.load(a8 + o, 64), v128.load(a8 + o, 96), op, c32);
  const qa = v128.load(q);
  const qb = v128.load(q, 32);
  const m3c = i8x16.splat(0x3c);
  const mc0 = i8x16.splat(-64);
  const hb = v128.xor(v128.load(qh), i8x16.splat(-86)); // flips bits 1, 3, 5, 7
  const u = pin(op, pair(
    dotQ6(v128.or(v128.and(i16x8.shl(qa, 2), m3c), v128.and(i16x8.shl(hb, 6), mc0)), a16, o),
    dotQ6(v128.or(v128.and(i16x8.shl(qb, 2), m3c), v128.and(i16x8.shl(hb, 4), mc0)), a16, o + 32),
  ));
  const v = pin(op, pair(
    dotQ6(v128.or(v128.and(i16x8.shr_u(qa, 2), m3c), v128.and(i16x8.shl(hb, 2), mc0)), a16, o + 64),
    dotQ6(v128.or(v128.and(i16x8.shr_u(qb, 2), m3c), v128.and(hb, mc0)), a16, o + 96),
  ));
  return quad(u, v);
}

/**
 * Relaxed build: chunkQ6 with the four runs' 16 activations already loaded (x0..x3: elements o, o+32, o+64,
 * o+96), so that two rows can share the loads. The 6-bit values themselves: low nibble, qh bit pair into bits 4-5
 * (prefill_k.ts unpacks the same way).
 */
// @ts-ignore: decorator
@inline function chunkQ6x(q: usize, qh: usize, x0: v128, x1: v128, x2: v128, x3: v128, op: usize, c32: usize): v128 {
  const qa = v128.load(q);
  const qb = v128.load(q, 32);
  const h = v128.load(qh);
  const m4 = i8x16.splat(15);
  const m30 = i8x16.splat(0x30);
  const u = pin(op, pair(
    dotQ6r(v128.or(v128.and(qa, m4), v128.and(i16x8.shl(h, 4), m30)), x0),
    dotQ6r(v128.or(v128.and(qb, m4), v128.and(i16x8.shl(h, 2), m30)), x1),
  ));
  const v = pin(op, pair(
    dotQ6r(v128.or(v128.and(i16x8.shr_u(qa, 4), m4), v128.and(h, m30)), x2),
    dotQ6r(v128.or(v128.and(i16x8.shr_u(qb, 4), m4), v128.and(i16x8.shr_u(h, 2), m30)), x3),
  ));
  // sum((u - 32) * q) = sum(u * q) - 32 * sum(q): the four sub-blocks' 32 * sum(q), precomputed in lane order
  return i32x4.sub(quad(u, v), v128.load(c32));
}

/**
 * One Q6_K half's float work: acc plus its sub-blocks' dots ev (0, 2, 4, 6) and od (1, 3, 5, 7) times their
 * scales, d (dd) and the activation scales. The half's scales as i32 lanes sc[2k] | sc[2k+1] << 16, split into
 * even and odd; lane k of both is in activation block k (ab: the half's first block's byte offset in d).
 */
// @ts-ignore: decorator
@inline function halfQ6(sc8: usize, ev: v128, od: v128, dd: v128, ab: usize, acc: v128): v128 {
  const sc = v128.load8x8_s(sc8);
  const sd = f32x4.mul(dd, v128.load(ab));
  const se = f32x4.convert_i32x4_s(i32x4.shr_s(i32x4.shl(sc, 16), 16));
  const so = f32x4.convert_i32x4_s(i32x4.shr_s(sc, 16));
  return f32x4.add(acc, f32x4.mul(f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(ev), se), f32x4.mul(f32x4.convert_i32x4_s(od), so)), sd));
}

/**
 * Q6_K: x ~ d * sc_j * (w - 32) per 16-element sub-block j (16 per superblock, int8 sc). Each 128-element half
 * has 64 ql bytes (low nibbles: elements 0-31 / 32-63 in ql[0..32) / ql[32..64); high nibbles: 64-95 / 96-127),
 * 32 qh bytes (bit pairs 0-1, 2-3, 4-5, 6-7 for those four runs) and 8 scales, sc_j for j = element / 16.
 */
export function mm_q6_k(w: usize, stride: i32, r0: i32, r1: i32, n: i32, q8: usize, q16: usize, d: usize, s: usize, T: i32, out: usize, outRows: i32): void {
  const nb = n >> 5;
  const nsb = n >> 8;
  const wk: f32 = ASC_FEATURE_RELAXED_SIMD ? 1 : 1.0 / 1024; // see dotQ6
  const nr = r1 - r0;
  let k0 = 0;
  if (ASC_FEATURE_RELAXED_SIMD) {
    // rowAt's next two rows (two of its streams) in one pass, each chunk's activations loaded once for both
    // (as mm_q8_0).
    for (; k0 + 1 < nr; k0 += 2) {
      const rA = rowAt(r0, nr, k0);
      const rB = rowAt(r0, nr, k0 + 1);
      const wA = w + <usize>rA * stride;
      const wB = w + <usize>rB * stride;
      for (let t = 0; t < T; t++) {
        const a8 = q8 + <usize>(t * n);
        const a16 = row16(q16, t, n);
        const ad = d + (<usize>(t * nb) << 2);
        const opA = out + (<usize>(t * outRows + rA) << 2);
        const opB = out + (<usize>(t * outRows + rB) << 2);
        let accA = f32x4.splat(0);
        let accB = f32x4.splat(0);
        for (let sb = 0; sb < nsb; sb++) {
          const qa = wA + <usize>sb * 210;
          const qb = wB + <usize>sb * 210;
          const ddA = f32x4.splat(f16s(load<u16>(qa, 208)));
          const ddB = f32x4.splat(f16s(load<u16>(qb, 208)));
          for (let hf = 0; hf < 2; hf++) {
            const o = <usize>((sb << 8) + (hf << 7));
            const x = a8 + o;
            const c32 = a16 + (<usize>n << 2) + (o >> 2);
            const hq = <usize>(hf << 6);
            const hh = <usize>(128 + (hf << 5));
            let x0 = v128.load(x);
            let x1 = v128.load(x, 32);
            let x2 = v128.load(x, 64);
            let x3 = v128.load(x, 96);
            const evA = chunkQ6x(qa + hq, qa + hh, x0, x1, x2, x3, opA, c32);
            const evB = chunkQ6x(qb + hq, qb + hh, x0, x1, x2, x3, opB, c32);
            x0 = v128.load(x, 16);
            x1 = v128.load(x, 48);
            x2 = v128.load(x, 80);
            x3 = v128.load(x, 112);
            const odA = chunkQ6x(qa + hq + 16, qa + hh + 16, x0, x1, x2, x3, opA, c32 + 16);
            const odB = chunkQ6x(qb + hq + 16, qb + hh + 16, x0, x1, x2, x3, opB, c32 + 16);
            const ab = ad + (<usize>((sb << 3) + (hf << 2)) << 2);
            const sc = <usize>(192 + (hf << 3));
            accA = halfQ6(qa + sc, evA, odA, ddA, ab, accA);
            accB = halfQ6(qb + sc, evB, odB, ddB, ab, accB);
          }
        }
        store<f32>(opA, hsum(accA));
        store<f32>(opB, hsum(accB));
      }
    }
  }
  for (let k = k0; k < nr; k++) {
    const r = rowAt(r0, nr, k);
    const wr = w + <usize>r * stride;
    for (let t = 0; t < T; t++) {
      const a8 = q8 + <usize>(t * n);
      const a16 = row16(q16, t, n);
      const ad = d + (<usize>(t * nb) << 2);
      const op = out + (<usize>(t * outRows + r) << 2);
      let acc = f32x4.splat(0);
      for (let sb = 0; sb < nsb; sb++) {
        const wb = wr + <usize>sb * 210;
        const dd = f32x4.splat(f16s(load<u16>(wb, 208)) * wk);
        for (let hf = 0; hf < 2; hf++) {
          const o = <usize>((sb << 8) + (hf << 7));
          const q = wb + (hf << 6);
          const qh = wb + 128 + (hf << 5);
          const c32 = a16 + (<usize>n << 2) + (o >> 2); // relaxed build: the half's 32 * sums of q (quant_act.ts)
          const ev = chunkQ6(q, qh, a8, a16, o, op, c32); // sub-blocks 0, 2, 4, 6 of the half
          const od = chunkQ6(q + 16, qh + 16, a8, a16, o + 16, op, c32 + 16); // 1, 3, 5, 7
          acc = halfQ6(wb + 192 + (hf << 3), ev, od, dd, ad + (<usize>((sb << 3) + (hf << 2)) << 2), acc);
        }
      }
      store<f32>(op, hsum(acc));
    }
  }
}

// Causal attention over a KV cache, one (token, head) work item at a time so threads split items [i0, i1).
// Scores and softmax in f32; p is a per-thread scratch of at least pos0+T floats.

import { exp4, hsum } from "./common";

/** a[0..n) · b[0..n): four independent chains over 16 floats a step (one chain was add-latency bound). */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, n: i32): f32 {
  let i = 0;
  let s: f32 = 0;
  if (n >= 16) {
    let a0 = f32x4.mul(v128.load(a), v128.load(b));
    let a1 = f32x4.mul(v128.load(a, 16), v128.load(b, 16));
    let a2 = f32x4.mul(v128.load(a, 32), v128.load(b, 32));
    let a3 = f32x4.mul(v128.load(a, 48), v128.load(b, 48));
    for (i = 16; i + 16 <= n; i += 16) {
      const o = <usize>i << 2;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(a + o, 32), v128.load(b + o, 32)));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(a + o, 48), v128.load(b + o, 48)));
    }
    s = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  }
  for (; i + 4 <= n; i += 4) s += hsum(f32x4.mul(v128.load(a + (<usize>i << 2)), v128.load(b + (<usize>i << 2))));
  for (; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/**
 * Two heads' scores against one K row: a·k and b·k stored at pa and pb (times scale), each K vector loaded
 * once for both (one chain per head per 4 floats; hd multiple of 4).
 */
// @ts-ignore: decorator
@inline function dot2(a: usize, b: usize, k: usize, n: i32, scale: f32, pa: usize, pb: usize): void {
  let x0 = f32x4.splat(0);
  let x1 = f32x4.splat(0);
  let y0 = f32x4.splat(0);
  let y1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const k0 = v128.load(k + o);
    const k1 = v128.load(k + o, 16);
    x0 = f32x4.add(x0, f32x4.mul(v128.load(a + o), k0));
    y0 = f32x4.add(y0, f32x4.mul(v128.load(b + o), k0));
    x1 = f32x4.add(x1, f32x4.mul(v128.load(a + o, 16), k1));
    y1 = f32x4.add(y1, f32x4.mul(v128.load(b + o, 16), k1));
  }
  if (i < n) {
    const o = <usize>i << 2;
    const k0 = v128.load(k + o);
    x0 = f32x4.add(x0, f32x4.mul(v128.load(a + o), k0));
    y0 = f32x4.add(y0, f32x4.mul(v128.load(b + o), k0));
  }
  store<f32>(pa, hsum(f32x4.add(x0, x1)) * scale);
  store<f32>(pb, hsum(f32x4.add(y0, y1)) * scale);
}

/**
 * Two heads' outputs: oa = sum_s pa[s] * v_s and ob = sum_s pb[s] * v_s over m rows of V, 16 output floats of
 * each head held in eight registers across all rows, each V vector loaded once for both heads (17 ops per 32
 * multiply-adds, where a per-row axpy into o costs ~40: o is neither read nor written per row).
 */
// @ts-ignore: decorator
@inline function mix2(oa: usize, ob: usize, v: usize, stride: usize, pa: usize, pb: usize, m: i32, n: i32): void {
  let c = 0;
  for (; c + 16 <= n; c += 16) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0);
    let b1 = f32x4.splat(0);
    let b2 = f32x4.splat(0);
    let b3 = f32x4.splat(0);
    let vr = v + (<usize>c << 2);
    for (let s = 0; s < m; s++) {
      const so = <usize>s << 2;
      const wa = v128.load32_splat(pa + so);
      const wb = v128.load32_splat(pb + so);
      const v0 = v128.load(vr);
      const v1 = v128.load(vr, 16);
      const v2 = v128.load(vr, 32);
      const v3 = v128.load(vr, 48);
      a0 = f32x4.add(a0, f32x4.mul(wa, v0));
      b0 = f32x4.add(b0, f32x4.mul(wb, v0));
      a1 = f32x4.add(a1, f32x4.mul(wa, v1));
      b1 = f32x4.add(b1, f32x4.mul(wb, v1));
      a2 = f32x4.add(a2, f32x4.mul(wa, v2));
      b2 = f32x4.add(b2, f32x4.mul(wb, v2));
      a3 = f32x4.add(a3, f32x4.mul(wa, v3));
      b3 = f32x4.add(b3, f32x4.mul(wb, v3));
      vr += stride;
    }
    const ca = oa + (<usize>c << 2);
    const cb = ob + (<usize>c << 2);
    v128.store(ca, a0);
    v128.store(ca, a1, 16);
    v128.store(ca, a2, 32);
    v128.store(ca, a3, 48);
    v128.store(cb, b0);
    v128.store(cb, b1, 16);
    v128.store(cb, b2, 32);
    v128.store(cb, b3, 48);
  }
  for (; c < n; c++) {
    let a: f32 = 0;
    let b: f32 = 0;
    for (let s = 0; s < m; s++) {
      const x = load<f32>(v + <usize>s * stride + (<usize>c << 2));
      a += load<f32>(pa + (<usize>s << 2)) * x;
      b += load<f32>(pb + (<usize>s << 2)) * x;
    }
    store<f32>(oa + (<usize>c << 2), a);
    store<f32>(ob + (<usize>c << 2), b);
  }
}

/**
 * o[0..n) = sum over s < m of p[s] * v[s*stride .. s*stride + n): 16 output floats at a time held in registers
 * across all m rows (o is written once, not read and written per row).
 */
// @ts-ignore: decorator
@inline function mix(o: usize, v: usize, stride: usize, p: usize, m: i32, n: i32): void {
  let c = 0;
  for (; c + 16 <= n; c += 16) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let vr = v + (<usize>c << 2);
    for (let s = 0; s < m; s++) {
      const w = v128.load32_splat(p + (<usize>s << 2));
      a0 = f32x4.add(a0, f32x4.mul(w, v128.load(vr)));
      a1 = f32x4.add(a1, f32x4.mul(w, v128.load(vr, 16)));
      a2 = f32x4.add(a2, f32x4.mul(w, v128.load(vr, 32)));
      a3 = f32x4.add(a3, f32x4.mul(w, v128.load(vr, 48)));
      vr += stride;
    }
    const oc = o + (<usize>c << 2);
    v128.store(oc, a0);
    v128.store(oc, a1, 16);
    v128.store(oc, a2, 32);
    v128.store(oc, a3, 48);
  }
  for (; c < n; c++) {
    let a: f32 = 0;
    for (let s = 0; s < m; s++) a += load<f32>(p + (<usize>s << 2)) * load<f32>(v + <usize>s * stride + (<usize>c << 2));
    store<f32>(o + (<usize>c << 2), a);
  }
}

/** p[0..n) = softmax(p[0..n)) in place, the exponentials four at a time. */
// @ts-ignore: decorator
@inline function softmax(p: usize, n: i32): void {
  let mx: f32 = -Infinity;
  for (let s = 0; s < n; s++) mx = max(mx, load<f32>(p + (<usize>s << 2)));
  const m4 = f32x4.splat(mx);
  let sum4 = f32x4.splat(0);
  let s = 0;
  for (; s + 4 <= n; s += 4) {
    const e = exp4(f32x4.sub(v128.load(p + (<usize>s << 2)), m4));
    v128.store(p + (<usize>s << 2), e);
    sum4 = f32x4.add(sum4, e);
  }
  let sum = hsum(sum4);
  for (; s < n; s++) {
    const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(p + (<usize>s << 2)) - mx)), 0);
    store<f32>(p + (<usize>s << 2), e);
    sum += e;
  }
  const inv: f32 = 1 / sum;
  for (let s = 0; s < n; s++) store<f32>(p + (<usize>s << 2), load<f32>(p + (<usize>s << 2)) * inv);
}

/**
 * q [T, nHeads, hd], k/v [ctx, nKv, hd] -> out [T, nHeads, hd]. Item i = t * nKv + g: token t's heads that share
 * KV head g, so each K and V row is read from memory once for the whole group instead of once per head. p holds
 * group * (pos0 + T) scores. Session 4: pairing the heads (dot2, mix2, in place of a per-row axpy into o) took
 * a 1.5B decode step's attention at ~560 positions from 282 to 176 us per layer (2 threads).
 */
export function attention(out: usize, q: usize, k: usize, v: usize, T: i32, pos0: i32, nHeads: i32, nKv: i32, hd: i32, scale: f32, p: usize, i0: i32, i1: i32): void {
  const group = nHeads / nKv;
  const kvStride = <usize>(nKv * hd) << 2;
  const hb = <usize>hd << 2;
  for (let it = i0; it < i1; it++) {
    const t = it / nKv;
    const g = it % nKv;
    const n = pos0 + t + 1;
    const pn = <usize>n << 2;
    const h0 = t * nHeads + g * group; // first head of the group in q and out
    const kg = k + <usize>g * hb;
    // Heads in pairs sharing each K and V load (dot2, mix2); an odd group's last head alone (dot, mix).
    const pairs = hd % 4 === 0 ? group & ~1 : 0;
    for (let s = 0; s < n; s++) {
      const kr = kg + <usize>s * kvStride;
      const so = <usize>s << 2;
      for (let j = 0; j < pairs; j += 2) {
        const pj = p + <usize>j * pn + so;
        dot2(q + <usize>(h0 + j) * hb, q + <usize>(h0 + j + 1) * hb, kr, hd, scale, pj, pj + pn);
      }
      for (let j = pairs; j < group; j++) store<f32>(p + <usize>j * pn + so, dot(q + <usize>(h0 + j) * hb, kr, hd) * scale);
    }
    for (let j = 0; j < group; j++) softmax(p + <usize>j * pn, n);
    const og = out + <usize>h0 * hb;
    const vg = v + <usize>g * hb;
    for (let j = 0; j < pairs; j += 2) {
      const pj = p + <usize>j * pn;
      mix2(og + <usize>j * hb, og + <usize>(j + 1) * hb, vg, kvStride, pj, pj + pn, n, hd);
    }
    for (let j = pairs; j < group; j++) mix(og + <usize>j * hb, vg, kvStride, p + <usize>j * pn, n, hd);
  }
}

/** Absorbed MLA: qLat [T, H, rank], qPe [T, H, rd], c [ctx, rank], pe [ctx, rd] -> out [T, H, rank]. */
export function mla_attention(out: usize, qLat: usize, qPe: usize, c: usize, pe: usize, T: i32, pos0: i32, nHeads: i32, rank: i32, rd: i32, scale: f32, p: usize, i0: i32, i1: i32): void {
  for (let it = i0; it < i1; it++) {
    const t = it / nHeads;
    const n = pos0 + t + 1;
    const qo = qLat + (<usize>(it * rank) << 2);
    const po = qPe + (<usize>(it * rd) << 2);
    for (let s = 0; s < n; s++) {
      const sc = dot(qo, c + (<usize>(s * rank) << 2), rank) + dot(po, pe + (<usize>(s * rd) << 2), rd);
      store<f32>(p + (<usize>s << 2), sc * scale);
    }
    softmax(p, n);
    mix(out + (<usize>(it * rank) << 2), c, <usize>rank << 2, p, n, rank);
  }
}

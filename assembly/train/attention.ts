// The trainer's causal MLA attention (src/train/autograd.ts mlaAttention) in WebAssembly SIMD: forward and
// backward, FP32 throughout. Layouts are autograd's: q [B*T, H, nope+rd] (rope applied), kNope [B*T, H, nope],
// kPe [B*T, rd] (one key shared by every head), v [B*T, H, V], out [B*T, H, V]; P [B, H, T, T4] keeps the
// softmax probabilities for the backward pass, T4 = T rounded up to a multiple of 4, zero past each row's
// causal end.
//
// Everything runs along the key index s, four keys per f32x4: each (sequence, head)'s keys and values are first
// transposed into scratch as [dim][T4] rows (zero-padded), so that a query's scores, its output and every
// gradient are sums of splat(scalar) * row over the keys it sees. That shape is the same for any head size (the
// tiny models have 8 / 16 / 12), where vectorizing along the head dimension would leave ragged tails.

import { exp4, hsum } from "../common";

/** Rows [0, T) of the [T, ld]-strided matrix at src, columns [c0, c0+n), written as [n][T4] rows at dst. */
function transposeIn(dst: usize, src: usize, ld: i32, c0: i32, n: i32, T: i32, T4: i32): void {
  for (let d = 0; d < n; d++) {
    const row = dst + (<usize>(d * T4) << 2);
    for (let s = 0; s < T; s++) store<f32>(row + (<usize>s << 2), load<f32>(src + (<usize>(s * ld + c0 + d) << 2)));
    for (let s = T; s < T4; s++) store<f32>(row + (<usize>s << 2), 0);
  }
}

/** The inverse of transposeIn, adding: dst[s * ld + c0 + d] += src[d][s]. */
function transposeAdd(dst: usize, src: usize, ld: i32, c0: i32, n: i32, T: i32, T4: i32): void {
  for (let d = 0; d < n; d++) {
    const row = src + (<usize>(d * T4) << 2);
    for (let s = 0; s < T; s++) {
      const o = dst + (<usize>(s * ld + c0 + d) << 2);
      store<f32>(o, load<f32>(o) + load<f32>(row + (<usize>s << 2)));
    }
  }
}

/** Lanes s0..s0+3 that a query at t may see (s <= t) as an all-ones mask. */
// @ts-ignore: decorator
@inline function causal(s0: i32, t: i32): v128 {
  return i32x4.le_s(i32x4.add(i32x4.splat(s0), i32x4(0, 1, 2, 3)), i32x4.splat(t));
}

/** Zeroes n floats at p (n a multiple of 4). */
function zero(p: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(p + (<usize>i << 2), f32x4.splat(0));
}

/**
 * Forward: out (zeroed by the caller) and P. Scratch at w: kT [nope][T4], peT [rd][T4], vT [V][T4], one row of
 * scores [T4].
 */
export function mla_fwd(q: usize, kn: usize, kp: usize, v: usize, out: usize, P: usize, B: i32, T: i32, H: i32, nope: i32, rd: i32, V: i32, scale: f32, w: usize): void {
  const qk = nope + rd;
  const T4 = (T + 3) & ~3;
  const kT = w;
  const peT = kT + (<usize>(nope * T4) << 2);
  const vT = peT + (<usize>(rd * T4) << 2);
  const sc = vT + (<usize>(V * T4) << 2);
  for (let b = 0; b < B; b++) {
    transposeIn(peT, kp + (<usize>(b * T * rd) << 2), rd, 0, rd, T, T4);
    for (let h = 0; h < H; h++) {
      transposeIn(kT, kn + (<usize>(b * T * H * nope) << 2), H * nope, h * nope, nope, T, T4);
      transposeIn(vT, v + (<usize>(b * T * H * V) << 2), H * V, h * V, V, T, T4);
      for (let t = 0; t < T; t++) {
        const qo = q + (<usize>(((b * T + t) * H + h) * qk) << 2);
        const pr = P + (<usize>(((b * H + h) * T + t) * T4) << 2);
        const nb = (t + 4) & ~3; // keys 0..t in whole vectors
        let mx = f32x4.splat(-Infinity);
        for (let s = 0; s < nb; s += 4) {
          const so = <usize>s << 2;
          let acc = f32x4.splat(0);
          for (let d = 0; d < nope; d++)
            acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(qo + (<usize>d << 2)), v128.load(kT + (<usize>(d * T4) << 2) + so)));
          for (let d = 0; d < rd; d++)
            acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(qo + (<usize>(nope + d) << 2)), v128.load(peT + (<usize>(d * T4) << 2) + so)));
          acc = v128.bitselect(f32x4.mul(acc, f32x4.splat(scale)), f32x4.splat(-Infinity), causal(s, t));
          v128.store(sc + so, acc);
          mx = f32x4.max(mx, acc);
        }
        const m = f32x4.splat(max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3))));
        let sum = f32x4.splat(0);
        for (let s = 0; s < nb; s += 4) {
          const so = <usize>s << 2;
          // exp4 clamps its input at -87, so masked lanes are zeroed explicitly
          const e = v128.and(exp4(f32x4.sub(v128.load(sc + so), m)), causal(s, t));
          v128.store(pr + so, e);
          sum = f32x4.add(sum, e);
        }
        const inv = f32x4.splat(1 / hsum(sum));
        for (let s = 0; s < nb; s += 4) v128.store(pr + (<usize>s << 2), f32x4.mul(v128.load(pr + (<usize>s << 2)), inv));
        for (let s = nb; s < T4; s += 4) v128.store(pr + (<usize>s << 2), f32x4.splat(0));
        const oo = out + (<usize>(((b * T + t) * H + h) * V) << 2);
        for (let d = 0; d < V; d++) {
          const row = vT + (<usize>(d * T4) << 2);
          let acc = f32x4.splat(0);
          for (let s = 0; s < nb; s += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(pr + (<usize>s << 2)), v128.load(row + (<usize>s << 2))));
          store<f32>(oo + (<usize>d << 2), hsum(acc));
        }
      }
    }
  }
}

/**
 * Backward: adds into dq, dkn, dkp, dv (same layouts as q, kn, kp, v) from dO [B*T, H, V] and the forward's P.
 * Scratch at w: kT, peT, vT as in the forward, their gradients dkT, dpeT, dvT, and one row of dp [T4].
 */
export function mla_bwd(q: usize, kn: usize, kp: usize, v: usize, P: usize, dO: usize, dq: usize, dkn: usize, dkp: usize, dv: usize, B: i32, T: i32, H: i32, nope: i32, rd: i32, V: i32, scale: f32, w: usize): void {
  const qk = nope + rd;
  const T4 = (T + 3) & ~3;
  const kT = w;
  const peT = kT + (<usize>(nope * T4) << 2);
  const vT = peT + (<usize>(rd * T4) << 2);
  const dkT = vT + (<usize>(V * T4) << 2);
  const dpeT = dkT + (<usize>(nope * T4) << 2);
  const dvT = dpeT + (<usize>(rd * T4) << 2);
  const dp = dvT + (<usize>(V * T4) << 2);
  const sc = f32x4.splat(scale);
  for (let b = 0; b < B; b++) {
    transposeIn(peT, kp + (<usize>(b * T * rd) << 2), rd, 0, rd, T, T4);
    zero(dpeT, rd * T4);
    for (let h = 0; h < H; h++) {
      transposeIn(kT, kn + (<usize>(b * T * H * nope) << 2), H * nope, h * nope, nope, T, T4);
      transposeIn(vT, v + (<usize>(b * T * H * V) << 2), H * V, h * V, V, T, T4);
      zero(dkT, nope * T4);
      zero(dvT, V * T4);
      for (let t = 0; t < T; t++) {
        const pr = P + (<usize>(((b * H + h) * T + t) * T4) << 2);
        const go = dO + (<usize>(((b * T + t) * H + h) * V) << 2);
        const nb = (t + 4) & ~3;
        // dp[s] = dO[t] · v[s]; dv[s] += p[s] dO[t]; dot = sum_s p[s] dp[s]
        let dot = f32x4.splat(0);
        for (let s = 0; s < nb; s += 4) {
          const so = <usize>s << 2;
          const p = v128.load(pr + so);
          let acc = f32x4.splat(0);
          for (let d = 0; d < V; d++) {
            const g = v128.load32_splat(go + (<usize>d << 2));
            const o = <usize>(d * T4) << 2;
            acc = f32x4.add(acc, f32x4.mul(g, v128.load(vT + o + so)));
            v128.store(dvT + o + so, f32x4.add(v128.load(dvT + o + so), f32x4.mul(g, p)));
          }
          v128.store(dp + so, acc);
          dot = f32x4.add(dot, f32x4.mul(p, acc));
        }
        const dt = f32x4.splat(hsum(dot));
        // ds[s] = p[s] (dp[s] - dot) scale (zero past t, where p is); kept in dp
        for (let s = 0; s < nb; s += 4) {
          const so = <usize>s << 2;
          v128.store(dp + so, f32x4.mul(f32x4.mul(v128.load(pr + so), f32x4.sub(v128.load(dp + so), dt)), sc));
        }
        // dq[t] += sum_s ds[s] k[s]; dk[s] += ds[s] q[t]
        const qo = q + (<usize>(((b * T + t) * H + h) * qk) << 2);
        const dqo = dq + (<usize>(((b * T + t) * H + h) * qk) << 2);
        for (let d = 0; d < qk; d++) {
          const kr = d < nope ? kT + (<usize>(d * T4) << 2) : peT + (<usize>((d - nope) * T4) << 2);
          const gr = d < nope ? dkT + (<usize>(d * T4) << 2) : dpeT + (<usize>((d - nope) * T4) << 2);
          const qd = v128.load32_splat(qo + (<usize>d << 2));
          let acc = f32x4.splat(0);
          for (let s = 0; s < nb; s += 4) {
            const so = <usize>s << 2;
            const ds = v128.load(dp + so);
            acc = f32x4.add(acc, f32x4.mul(ds, v128.load(kr + so)));
            v128.store(gr + so, f32x4.add(v128.load(gr + so), f32x4.mul(ds, qd)));
          }
          store<f32>(dqo + (<usize>d << 2), load<f32>(dqo + (<usize>d << 2)) + hsum(acc));
        }
      }
      transposeAdd(dkn + (<usize>(b * T * H * nope) << 2), dkT, H * nope, h * nope, nope, T, T4);
      transposeAdd(dv + (<usize>(b * T * H * V) << 2), dvT, H * V, h * V, V, T, T4);
    }
    transposeAdd(dkp + (<usize>(b * T * rd) << 2), dpeT, rd, 0, rd, T, T4);
  }
}

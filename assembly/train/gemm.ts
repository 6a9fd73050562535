// The trainer's GEMMs in WebAssembly SIMD: one accumulate kernel, C[I, P] += A[I, R] · B[R, P], FP32 throughout.
// src/train/gemm_wasm.ts maps each of a Linear layer's three GEMMs onto it:
//   forward  y[N, M]   = x[N, K] · Wᵀ      A = x (row-major),  B = Wᵀ [K, M] (transposed once per call), C zeroed
//   input    dx[N, K] += dy[N, M] · W      A = dy (row-major), B = W [M, K]
//   weight   dW[M, K] += dyᵀ · x[N, K]     A = dyᵀ (read column-wise from dy [N, M]), B = x [N, K]
// B rows are read as f32x4 along the contiguous P, each A element is broadcast (load32_splat), and a tile of C
// stays in registers for the whole reduction (4 rows x 8 columns: 8 accumulators + 2 B vectors + 1 broadcast fit
// x86's 16 xmm registers). P is a multiple of 4 (the caller pads B and C rows); rows of C past the last multiple
// of 4 take the 1-row tiles. Every pointer and stride is in bytes; A's element (i, r) is at a + i*sai + r*sar, so
// one kernel reads A row-major (sai = row bytes, sar = 4) or transposed (sai = 4, sar = row bytes).
//
// The reduction runs in chunks of rc rows of B, the whole i/j sweep per chunk, so that a chunk of a tall B
// (the weight gradient's x, ~1,700 rows) stays in L1 while every tile of C passes over it; C's tiles are loaded
// and stored once per chunk. Per output element the sum order is fixed (C, then r = 0, 1, ...): results are
// deterministic and independent of the chunking.

/** One 4x8 tile: C[i..i+4, j..j+8] += A[i..i+4, r0..r0+R] · B[r0..r0+R, j..j+8]; a, b point at (i, r0), (r0, j). */
function tile4x8(c: usize, ldc: usize, a: usize, sai: usize, sar: usize, b: usize, ldb: usize, R: i32): void {
  const c1 = c + ldc;
  const c2 = c1 + ldc;
  const c3 = c2 + ldc;
  let s00 = v128.load(c);
  let s01 = v128.load(c, 16);
  let s10 = v128.load(c1);
  let s11 = v128.load(c1, 16);
  let s20 = v128.load(c2);
  let s21 = v128.load(c2, 16);
  let s30 = v128.load(c3);
  let s31 = v128.load(c3, 16);
  let a0 = a;
  let a1 = a + sai;
  let a2 = a1 + sai;
  let a3 = a2 + sai;
  for (let r = 0; r < R; r++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a0);
    s00 = f32x4.add(s00, f32x4.mul(x, b0));
    s01 = f32x4.add(s01, f32x4.mul(x, b1));
    x = v128.load32_splat(a1);
    s10 = f32x4.add(s10, f32x4.mul(x, b0));
    s11 = f32x4.add(s11, f32x4.mul(x, b1));
    x = v128.load32_splat(a2);
    s20 = f32x4.add(s20, f32x4.mul(x, b0));
    s21 = f32x4.add(s21, f32x4.mul(x, b1));
    x = v128.load32_splat(a3);
    s30 = f32x4.add(s30, f32x4.mul(x, b0));
    s31 = f32x4.add(s31, f32x4.mul(x, b1));
    a0 += sar;
    a1 += sar;
    a2 += sar;
    a3 += sar;
    b += ldb;
  }
  v128.store(c, s00);
  v128.store(c, s01, 16);
  v128.store(c1, s10);
  v128.store(c1, s11, 16);
  v128.store(c2, s20);
  v128.store(c2, s21, 16);
  v128.store(c3, s30);
  v128.store(c3, s31, 16);
}

/** 4x4 tile: the last 4 columns when P is not a multiple of 8. */
function tile4x4(c: usize, ldc: usize, a: usize, sai: usize, sar: usize, b: usize, ldb: usize, R: i32): void {
  const c1 = c + ldc;
  const c2 = c1 + ldc;
  const c3 = c2 + ldc;
  let s0 = v128.load(c);
  let s1 = v128.load(c1);
  let s2 = v128.load(c2);
  let s3 = v128.load(c3);
  let a0 = a;
  let a1 = a + sai;
  let a2 = a1 + sai;
  let a3 = a2 + sai;
  for (let r = 0; r < R; r++) {
    const b0 = v128.load(b);
    s0 = f32x4.add(s0, f32x4.mul(v128.load32_splat(a0), b0));
    s1 = f32x4.add(s1, f32x4.mul(v128.load32_splat(a1), b0));
    s2 = f32x4.add(s2, f32x4.mul(v128.load32_splat(a2), b0));
    s3 = f32x4.add(s3, f32x4.mul(v128.load32_splat(a3), b0));
    a0 += sar;
    a1 += sar;
    a2 += sar;
    a3 += sar;
    b += ldb;
  }
  v128.store(c, s0);
  v128.store(c1, s1);
  v128.store(c2, s2);
  v128.store(c3, s3);
}

/** 1-row tile over 4 columns: the rows of C past the last multiple of 4. */
function tile1x4(c: usize, a: usize, sar: usize, b: usize, ldb: usize, R: i32): void {
  let s = v128.load(c);
  for (let r = 0; r < R; r++) {
    s = f32x4.add(s, f32x4.mul(v128.load32_splat(a), v128.load(b)));
    a += sar;
    b += ldb;
  }
  v128.store(c, s);
}

/**
 * C[I, P] += A[I, R] · B[R, P]. c, b: row-major with row strides ldc, ldb (bytes, multiples of 16 not required);
 * P a multiple of 4; A's element (i, r) at a + i*sai + r*sar. rc: rows of B per chunk (see the file comment).
 */
export function gemm_acc(
  c: usize,
  ldc: usize,
  a: usize,
  sai: usize,
  sar: usize,
  b: usize,
  ldb: usize,
  I: i32,
  R: i32,
  P: i32,
  rc: i32,
): void {
  if (rc <= 0) rc = R;
  const I4 = I & ~3;
  const P8 = P & ~7;
  for (let r0 = 0; r0 < R; r0 += rc) {
    const n = min(rc, R - r0);
    const ar = a + <usize>r0 * sar;
    const br = b + <usize>r0 * ldb;
    for (let i = 0; i < I4; i += 4) {
      const ci = c + <usize>i * ldc;
      const ai = ar + <usize>i * sai;
      let j = 0;
      for (; j < P8; j += 8) tile4x8(ci + (<usize>j << 2), ldc, ai, sai, sar, br + (<usize>j << 2), ldb, n);
      if (j < P) tile4x4(ci + (<usize>j << 2), ldc, ai, sai, sar, br + (<usize>j << 2), ldb, n);
    }
    for (let i = I4; i < I; i++) {
      const ci = c + <usize>i * ldc;
      const ai = ar + <usize>i * sai;
      for (let j = 0; j < P; j += 4) tile1x4(ci + (<usize>j << 2), ai, sar, br + (<usize>j << 2), ldb, n);
    }
  }
}

/**
 * dst[rows, ldd] = src[rows, lds] over the first `cols` floats of each row, zeroing dst's columns cols..ldd:
 * moves an operand between its caller's layout and the kernel's rows padded to a multiple of 4 (either way).
 */
export function repack(dst: usize, ldd: i32, src: usize, lds: i32, rows: i32, cols: i32): void {
  const n = <usize>cols << 2;
  const pad = <usize>(ldd - cols) << 2;
  for (let r = 0; r < rows; r++) {
    const d = dst + ((<usize>r * <usize>ldd) << 2);
    memory.copy(d, src + ((<usize>r * <usize>lds) << 2), n);
    if (ldd > cols) memory.fill(d + n, 0, pad);
  }
}

/** dst[cols, ldd] = src[rows, cols]ᵀ, zeroing dst's columns rows..ldd: the forward's B = Wᵀ, padded. */
export function transpose(dst: usize, ldd: i32, src: usize, rows: i32, cols: i32): void {
  for (let k = 0; k < cols; k++) {
    const d = dst + ((<usize>k * <usize>ldd) << 2);
    let s = src + (<usize>k << 2);
    for (let m = 0; m < rows; m++) {
      store<f32>(d + (<usize>m << 2), load<f32>(s));
      s += <usize>cols << 2;
    }
    for (let m = rows; m < ldd; m++) store<f32>(d + (<usize>m << 2), 0);
  }
}

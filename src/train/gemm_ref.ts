// The trainer's GEMMs as plain loops: the specification that gemm_wasm.ts's SIMD kernels are tested against,
// and their fallback where WebAssembly SIMD is unavailable. Shapes are a Linear layer's: x [N, K], W [M, K],
// y and dy [N, M]; arrays are flat row-major. gemmNT sums in f64 (JS numbers) and rounds once; the accumulating two round to
// f32 at every add (their target is a Float32Array).

/** y[N, M] = x[N, K] · w[M, K]ᵀ (overwrites y). Dot form: both operands read along contiguous K. */
export function gemmNT(y: Float32Array, x: Float32Array, w: Float32Array, N: number, K: number, M: number): void {
  for (let n = 0; n < N; n++) {
    const xo = n * K;
    const yo = n * M;
    for (let m = 0; m < M; m++) {
      const wo = m * K;
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[xo + k] * w[wo + k];
      y[yo + m] = acc;
    }
  }
}

/** dx[N, K] += dy[N, M] · w[M, K] (i-k-j order). */
export function gemmNN_acc(dx: Float32Array, dy: Float32Array, w: Float32Array, N: number, M: number, K: number): void {
  outerAcc(dx, dy, w, N, M, K, true);
}

/** dw[M, K] += dy[N, M]ᵀ · x[N, K]. */
export function gemmTN_acc(dw: Float32Array, dy: Float32Array, x: Float32Array, N: number, M: number, K: number): void {
  outerAcc(dw, dy, x, N, M, K, false);
}

/**
 * The two accumulating GEMMs' loop: for every dy[n, m] != 0, one K-long row of dst gets dy[n, m] times one row
 * of src; rowsByN: dst row n from src row m (the input gradient), else dst row m from src row n (the weight's).
 */
function outerAcc(
  dst: Float32Array,
  dy: Float32Array,
  src: Float32Array,
  N: number,
  M: number,
  K: number,
  rowsByN: boolean,
): void {
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const a = dy[n * M + m];
      if (a === 0) continue;
      const d = (rowsByN ? n : m) * K;
      const s = (rowsByN ? m : n) * K;
      for (let k = 0; k < K; k++) dst[d + k] += a * src[s + k];
    }
}

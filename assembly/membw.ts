// Streams pieces [i0, i1) of `per` bytes each from p (per a multiple of 64): the bench's measure of the memory
// bandwidth these kernels can reach, with the same loads and threads as the matmuls. A checksum per piece goes
// to out + 16*i so the loads are not optimized away.

export function read_bw(p: usize, per: i32, i0: i32, i1: i32, out: usize): void {
  for (let i = i0; i < i1; i++) {
    let a = i32x4.splat(0);
    let b = i32x4.splat(0);
    let c = i32x4.splat(0);
    let d = i32x4.splat(0);
    const s = p + <usize>i * per;
    const end = s + <usize>per;
    for (let q = s; q < end; q += 64) {
      a = i32x4.add(a, v128.load(q));
      b = i32x4.add(b, v128.load(q, 16));
      c = i32x4.add(c, v128.load(q, 32));
      d = i32x4.add(d, v128.load(q, 48));
    }
    v128.store(out + (<usize>i << 4), i32x4.add(i32x4.add(a, b), i32x4.add(c, d)));
  }
}

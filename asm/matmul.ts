// Single-precision GEMM on raw heap pointers: C[M,N] = op(A)[M,K] op(B)[K,N] (+ bias[N], relu).
// Both operands are packed into `scratch`, one cache block at a time: op(B) (KC x NC) into 8-column
// panels, op(A) (MC x KC) into 4-row panels (the 4 values of one k adjacent), zero-padded past N and
// M, so that the micro-kernel streams both contiguously with constant offsets. The micro-kernel
// keeps a 4 x 8 block of C in 8 v128 accumulators: per k, 2 loads of the B panel and 4 splat loads
// of the A panel, 8 mul + 8 add (~50-57 GFLOP/s on one Zen 5 core; unrolling k by 2 halved that).
// Loop order (BLIS): N blocks > K blocks (pack B) > M blocks > 8-column panels > 4-row blocks; the
// panel being multiplied (KC x 8) stays in L1 while the rows of one M block stream past it.

const KC: i32 = 256;
const NC: i32 = 512;
const MC: i32 = 128;
// Floats between consecutive packed panels beyond their size, so that panels do not start at the
// same cache sets (a power-of-two panel size made some heap layouts ~2x slower).
const PAD: i32 = 16;

/** Floats of scratch that gemm needs for these sizes. */
export function gemmScratchFloats(N: i32, K: i32): i32 {
  const kc = min(K, KC);
  return ((min(N, NC) + 7) >> 3) * (kc * 8 + PAD) + (MC >> 2) * (kc * 4 + PAD);
}

export function gemm(
  a: usize, b: usize, c: usize, bias: usize, scratch: usize,
  M: i32, N: i32, K: i32, transposeA: bool, transposeB: bool, relu: bool,
): void {
  const apack = scratch + (<usize>((min(N, NC) + 7) >> 3) * (min(K, KC) * 8 + PAD) << 2);
  const ldc: usize = <usize>N << 2;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      if (transposeB) packBT(b, scratch, K, N, pc, kc, jc, nc);
      else packB(b, scratch, N, pc, kc, jc, nc);
      const first = pc == 0;
      const last = pc + kc >= K;
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        if (transposeA) packAT(a, apack, M, pc, kc, ic, mc);
        else packA(a, apack, K, pc, kc, ic, mc);
        for (let jr = 0; jr < nc; jr += 8) {
          const pb = scratch + (<usize>(jr >> 3) * (kc * 8 + PAD) << 2);
          const cols = min(8, nc - jr);
          const j = jc + jr;
          for (let ir = 0; ir < mc; ir += 4) {
            const i = ic + ir;
            const rows = min(4, M - i);
            const pa = apack + (<usize>(ir >> 2) * (kc * 4 + PAD) << 2);
            micro(pa, pb, kc, c + <usize>i * ldc + (<usize>j << 2), ldc,
              rows, cols, first, last, bias != 0 ? bias + (<usize>j << 2) : 0, relu);
          }
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function micro(
  pa: usize, pb: usize, kc: i32, c: usize, ldc: usize,
  rows: i32, cols: i32, first: bool, last: bool, bias: usize, relu: bool,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = pb + (<usize>kc << 5);
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(x, b0));
    c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(x, b0));
    c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(x, b0));
    c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(x, b0));
    c31 = f32x4.add(c31, f32x4.mul(x, b1));
    pa += 16;
    pb += 32;
  }
  storeRow(c, c00, c01, cols, first, last, bias, relu);
  if (rows > 1) storeRow(c + ldc, c10, c11, cols, first, last, bias, relu);
  if (rows > 2) storeRow(c + (ldc << 1), c20, c21, cols, first, last, bias, relu);
  if (rows > 3) storeRow(c + ldc * 3, c30, c31, cols, first, last, bias, relu);
}

// @ts-ignore: decorator
@inline function storeRow(
  c: usize, v0: v128, v1: v128, cols: i32, first: bool, last: bool, bias: usize, relu: bool,
): void {
  if (cols == 8) {
    if (!first) {
      v0 = f32x4.add(v0, v128.load(c));
      v1 = f32x4.add(v1, v128.load(c, 16));
    }
    if (last) {
      if (bias != 0) {
        v0 = f32x4.add(v0, v128.load(bias));
        v1 = f32x4.add(v1, v128.load(bias, 16));
      }
      if (relu) {
        v0 = f32x4.max(v0, f32x4.splat(0));
        v1 = f32x4.max(v1, f32x4.splat(0));
      }
    }
    v128.store(c, v0);
    v128.store(c, v1, 16);
    return;
  }
  storeLane(c, f32x4.extract_lane(v0, 0), 0, cols, first, last, bias, relu);
  storeLane(c, f32x4.extract_lane(v0, 1), 1, cols, first, last, bias, relu);
  storeLane(c, f32x4.extract_lane(v0, 2), 2, cols, first, last, bias, relu);
  storeLane(c, f32x4.extract_lane(v0, 3), 3, cols, first, last, bias, relu);
  storeLane(c, f32x4.extract_lane(v1, 0), 4, cols, first, last, bias, relu);
  storeLane(c, f32x4.extract_lane(v1, 1), 5, cols, first, last, bias, relu);
  storeLane(c, f32x4.extract_lane(v1, 2), 6, cols, first, last, bias, relu);
}

// @ts-ignore: decorator
@inline function storeLane(
  c: usize, v: f32, l: i32, cols: i32, first: bool, last: bool, bias: usize, relu: bool,
): void {
  if (l >= cols) return;
  const p = c + (<usize>l << 2);
  if (!first) v += load<f32>(p);
  if (last) {
    if (bias != 0) v += load<f32>(bias + (<usize>l << 2));
    if (relu) v = max(v, 0);
  }
  store<f32>(p, v);
}

/** Copies rows ic..ic+mc, k = pc..pc+kc of op(A) = A^T (A row-major [K,M]) into 4-row panels. */
function packAT(a: usize, dst: usize, M: i32, pc: i32, kc: i32, ic: i32, mc: i32): void {
  // One contiguous run of A per k (a k-major walk: A's rows are M floats apart, often 2^n bytes).
  const lda: usize = <usize>M << 2;
  const panel: usize = <usize>(kc * 4 + PAD) << 2;
  const m4 = mc & ~3;
  let src = a + <usize>pc * lda + (<usize>ic << 2);
  let d = dst;
  for (let k = 0; k < kc; k++) {
    let p = d;
    for (let ir = 0; ir < m4; ir += 4) {
      v128.store(p, v128.load(src + (<usize>ir << 2)));
      p += panel;
    }
    if (m4 < mc) {
      v128.store(p, f32x4.splat(0)); // rows past M: zeros (never stored, but no NaN / denormal slowdowns)
      for (let l = m4; l < mc; l++) store<f32>(p + (<usize>(l - m4) << 2), load<f32>(src + (<usize>l << 2)));
    }
    src += lda;
    d += 16;
  }
}

/** As packAT, for row-major op(A) = A [M,K]: 4 x 4 transposes in registers. */
function packA(a: usize, dst: usize, K: i32, pc: i32, kc: i32, ic: i32, mc: i32): void {
  const lda: usize = <usize>K << 2;
  const k4 = kc & ~3;
  for (let ir = 0; ir < mc; ir += 4) {
    const d0 = dst + (<usize>(ir >> 2) * (kc * 4 + PAD) << 2);
    const rows = min(4, mc - ir);
    const src = a + <usize>(ic + ir) * lda + (<usize>pc << 2);
    if (rows == 4) {
      for (let k = 0; k < k4; k += 4) transpose4(src + (<usize>k << 2), lda, d0 + (<usize>k << 4), 16);
      for (let k = k4; k < kc; k++) {
        for (let l = 0; l < 4; l++) store<f32>(d0 + (<usize>k << 4) + (<usize>l << 2), load<f32>(src + <usize>l * lda + (<usize>k << 2)));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const d = d0 + (<usize>k << 4);
        for (let l = 0; l < 4; l++) store<f32>(d + (<usize>l << 2), l < rows ? load<f32>(src + <usize>l * lda + (<usize>k << 2)) : 0);
      }
    }
  }
}

/** Packs rows pc..pc+kc, columns jc..jc+nc of row-major B[K,N] into 8-column panels. */
function packB(b: usize, dst: usize, N: i32, pc: i32, kc: i32, jc: i32, nc: i32): void {
  const ldb: usize = <usize>N << 2;
  for (let jr = 0; jr < nc; jr += 8) {
    let src = b + <usize>pc * ldb + (<usize>(jc + jr) << 2);
    let d = dst + (<usize>(jr >> 3) * (kc * 8 + PAD) << 2);
    const cols = min(8, nc - jr);
    if (cols == 8) {
      for (let k = 0; k < kc; k++) {
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
        src += ldb;
        d += 32;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        v128.store(d, f32x4.splat(0));
        v128.store(d, f32x4.splat(0), 16);
        for (let l = 0; l < cols; l++) store<f32>(d + (<usize>l << 2), load<f32>(src + (<usize>l << 2)));
        src += ldb;
        d += 32;
      }
    }
  }
}

/** As packB, for op(B) = B^T with B row-major [N,K]: 4 x 4 transposes in registers. */
function packBT(b: usize, dst: usize, K: i32, N: i32, pc: i32, kc: i32, jc: i32, nc: i32): void {
  const ldb: usize = <usize>K << 2;
  const k4 = kc & ~3;
  for (let jr = 0; jr < nc; jr += 8) {
    const d0 = dst + (<usize>(jr >> 3) * (kc * 8 + PAD) << 2);
    const cols = min(8, nc - jr);
    const src = b + <usize>(jc + jr) * ldb + (<usize>pc << 2);
    if (cols == 8) {
      for (let k = 0; k < k4; k += 4) {
        const s = src + (<usize>k << 2);
        const d = d0 + (<usize>k << 5);
        transpose4(s, ldb, d, 32);
        transpose4(s + (ldb << 2), ldb, d + 16, 32);
      }
      for (let k = k4; k < kc; k++) {
        for (let l = 0; l < 8; l++) {
          store<f32>(d0 + (<usize>k << 5) + (<usize>l << 2), load<f32>(src + <usize>l * ldb + (<usize>k << 2)));
        }
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const d = d0 + (<usize>k << 5);
        for (let l = 0; l < 8; l++) {
          store<f32>(d + (<usize>l << 2), l < cols ? load<f32>(src + <usize>l * ldb + (<usize>k << 2)) : 0);
        }
      }
    }
  }
}

/** Row m of dst (rows `ds` bytes apart) = column m of the 4 x 4 block at src (rows `ld` bytes apart). */
// @ts-ignore: decorator
@inline function transpose4(src: usize, ld: usize, dst: usize, ds: usize): void {
  const r0 = v128.load(src), r1 = v128.load(src + ld);
  const r2 = v128.load(src + (ld << 1)), r3 = v128.load(src + ld * 3);
  const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t2 = f32x4.shuffle(r0, r1, 2, 6, 3, 7), t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, f32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(dst + ds, f32x4.shuffle(t0, t1, 2, 3, 6, 7));
  v128.store(dst + (ds << 1), f32x4.shuffle(t2, t3, 0, 1, 4, 5));
  v128.store(dst + ds * 3, f32x4.shuffle(t2, t3, 2, 3, 6, 7));
}

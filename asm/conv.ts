// Convolution filter gradient (NHWC, float32) on raw heap pointers:
//   dW[a,b,c,o] = sum over n,oh,ow of xp[n, oh*sh+a, ow*sw+b, c] * dy[n,oh,ow,o]
// with xp the zero-padded input (convPadInput). dW is the matrix [K = kh*kw*ci, co]; row k = (a,b,c)
// reads xp at the byte offset ((a*Wp + b)*ci + c)*4 from an output pixel's window origin.
// Register block: 4 rows of K x 8 columns of co (8 f32x4 accumulators); per output pixel one
// outer product of 4 broadcast x values and 2 dy vectors. The output rows (n, oh) are taken in
// chunks whose dy and x stay in L1 while every block of dW streams over them.

/** xp[N,Hp,Wp,C] = x[N,H,W,C] placed at (top, left), zeros elsewhere; x rows/columns past Hp/Wp dropped. */
export function convPadInput(
  x: usize, xp: usize, N: i32, H: i32, W: i32, C: i32, Hp: i32, Wp: i32, top: i32, left: i32,
): void {
  const pix = <usize>C << 2;
  const qa = min(max(left, 0), Wp);
  const qb = max(min(W + left, Wp), qa);
  const rowIn = <usize>W * pix;
  const rowOut = <usize>Wp * pix;
  let dst = xp;
  for (let n = 0; n < N; n++) {
    for (let r = 0; r < Hp; r++) {
      const ih = r - top;
      if (ih < 0 || ih >= H || qb == qa) {
        memory.fill(dst, 0, rowOut);
      } else {
        memory.fill(dst, 0, <usize>qa * pix);
        memory.copy(dst + <usize>qa * pix, x + (<usize>(n * H + ih)) * rowIn + <usize>(qa - left) * pix, <usize>(qb - qa) * pix);
        memory.fill(dst + <usize>qb * pix, 0, <usize>(Wp - qb) * pix);
      }
      dst += rowOut;
    }
  }
}

/** Byte offset of row k = (a, b, c) of dW in xp, from a window origin. */
// @ts-ignore: decorator
@inline function rowOffset(k: i32, kw: i32, ci: i32, Wp: i32): usize {
  const a = k / (kw * ci);
  const rem = k - a * kw * ci;
  const b = rem / ci;
  return <usize>((a * Wp + b) * ci + rem - b * ci) << 2;
}

/** dw[kh,kw,ci,co] = the filter gradient (overwritten) from xp (convPadInput) and dy[N,OH,OW,co]. */
export function convFilterGrad(
  xp: usize, dy: usize, dw: usize,
  N: i32, OH: i32, OW: i32, Hp: i32, Wp: i32, ci: i32, co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, chunkRows: i32,
): void {
  const K = kh * kw * ci;
  memory.fill(dw, 0, (<usize>K * co) << 2);
  const rows = N * OH;
  const co4 = co & ~3;
  const consec = (ci & 3) == 0; // then every 4-row block is 4 channels of one tap
  const imgX = (<usize>Hp * Wp * ci) << 2;
  const rowX = (<usize>sh * Wp * ci) << 2;
  const pixX = (<usize>sw * ci) << 2;
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const r1 = min(r0 + chunkRows, rows);
    for (let k0 = 0; k0 < K; k0 += 4) {
      const nr = min(4, K - k0);
      const o0 = rowOffset(k0, kw, ci, Wp);
      const d1 = rowOffset(k0 + min(1, nr - 1), kw, ci, Wp) - o0;
      const d2 = rowOffset(k0 + min(2, nr - 1), kw, ci, Wp) - o0;
      const d3 = rowOffset(k0 + min(3, nr - 1), kw, ci, Wp) - o0;
      const x0 = xp + o0;
      if (consec) rowBlock(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, 0, 0, 0, k0, 4, true);
      else if (nr == 4) rowBlock(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, d1, d2, d3, k0, 4, false);
      else if (nr == 3) rowBlock(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, d1, d2, d3, k0, 3, false);
      else if (nr == 2) rowBlock(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, d1, d2, d3, k0, 2, false);
      else rowBlock(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, d1, d2, d3, k0, 1, false);
    }
    if (co4 < co) scalarTail(xp, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, K, kw, ci, Wp, co4);
  }
}

/** Rows k0..k0+nr of dw (nr a constant after inlining), all columns but the co % 4 last ones. */
// @ts-ignore: decorator
@inline function rowBlock(
  x0: usize, dy: usize, dw: usize, r0: i32, r1: i32, OH: i32, OW: i32,
  imgX: usize, rowX: usize, pixX: usize, co: i32, d1: usize, d2: usize, d3: usize,
  k0: i32, nr: i32, consec: bool,
): void {
  const co8 = co & ~7;
  for (let c = 0; c < co8; c += 8) {
    block(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, d1, d2, d3, nr, k0, c, consec, true);
  }
  if ((co & 4) != 0) block(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, d1, d2, d3, nr, k0, co8, consec, false);
}

/**
 * dw[k0..k0+nr, c..c+8 (or 4 when !two)] += the sum over output rows r0..r1 of the outer products.
 * consec: the 4 rows are at x offsets 0, 4, 8, 12 bytes (immediates); else at 0, d1, d2, d3.
 * nr (rows) and the flags are constants after inlining: one specialised loop per variant.
 */
// @ts-ignore: decorator
@inline function block(
  x0: usize, dy: usize, dw: usize, r0: i32, r1: i32, OH: i32, OW: i32,
  imgX: usize, rowX: usize, pixX: usize, co: i32, d1: usize, d2: usize, d3: usize,
  nr: i32, k0: i32, c: i32, consec: bool, two: bool,
): void {
  const zero = f32x4.splat(0);
  let a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero;
  const pixD = <usize>co << 2;
  let n = r0 / OH;
  let oh = r0 - n * OH;
  let pd = dy + ((<usize>r0 * OW * co + c) << 2);
  for (let r = r0; r < r1; r++) {
    let px = x0 + <usize>n * imgX + <usize>oh * rowX;
    const end = pd + <usize>OW * pixD;
    while (pd < end) {
      const v0 = v128.load(pd);
      const v1 = two ? v128.load(pd, 16) : zero;
      let s = consec ? v128.load32_splat(px) : v128.load32_splat(px);
      a00 = f32x4.add(a00, f32x4.mul(s, v0));
      if (two) a01 = f32x4.add(a01, f32x4.mul(s, v1));
      if (nr > 1) {
        s = consec ? v128.load32_splat(px, 4) : v128.load32_splat(px + d1);
        a10 = f32x4.add(a10, f32x4.mul(s, v0));
        if (two) a11 = f32x4.add(a11, f32x4.mul(s, v1));
      }
      if (nr > 2) {
        s = consec ? v128.load32_splat(px, 8) : v128.load32_splat(px + d2);
        a20 = f32x4.add(a20, f32x4.mul(s, v0));
        if (two) a21 = f32x4.add(a21, f32x4.mul(s, v1));
      }
      if (nr > 3) {
        s = consec ? v128.load32_splat(px, 12) : v128.load32_splat(px + d3);
        a30 = f32x4.add(a30, f32x4.mul(s, v0));
        if (two) a31 = f32x4.add(a31, f32x4.mul(s, v1));
      }
      px += pixX;
      pd += pixD;
    }
    if (++oh == OH) { oh = 0; n++; }
  }
  let q = dw + ((<usize>k0 * co + c) << 2);
  v128.store(q, f32x4.add(v128.load(q), a00));
  if (two) v128.store(q, f32x4.add(v128.load(q, 16), a01), 16);
  if (nr < 2) return;
  q += pixD;
  v128.store(q, f32x4.add(v128.load(q), a10));
  if (two) v128.store(q, f32x4.add(v128.load(q, 16), a11), 16);
  if (nr < 3) return;
  q += pixD;
  v128.store(q, f32x4.add(v128.load(q), a20));
  if (two) v128.store(q, f32x4.add(v128.load(q, 16), a21), 16);
  if (nr < 4) return;
  q += pixD;
  v128.store(q, f32x4.add(v128.load(q), a30));
  if (two) v128.store(q, f32x4.add(v128.load(q, 16), a31), 16);
}

/** Columns co4..co (co % 4 of them), one scalar sum per element of dW. */
function scalarTail(
  xp: usize, dy: usize, dw: usize, r0: i32, r1: i32, OH: i32, OW: i32,
  imgX: usize, rowX: usize, pixX: usize, co: i32, K: i32, kw: i32, ci: i32, Wp: i32, co4: i32,
): void {
  const pixD = <usize>co << 2;
  for (let k = 0; k < K; k++) {
    const ok = rowOffset(k, kw, ci, Wp);
    for (let c = co4; c < co; c++) {
      let sum: f32 = 0;
      let n = r0 / OH;
      let oh = r0 - n * OH;
      let pd = dy + ((<usize>r0 * OW * co + c) << 2);
      for (let r = r0; r < r1; r++) {
        let px = xp + ok + <usize>n * imgX + <usize>oh * rowX;
        for (let ow = 0; ow < OW; ow++) {
          sum += load<f32>(px) * load<f32>(pd);
          px += pixX;
          pd += pixD;
        }
        if (++oh == OH) { oh = 0; n++; }
      }
      const q = dw + ((<usize>k * co + c) << 2);
      store<f32>(q, load<f32>(q) + sum);
    }
  }
}

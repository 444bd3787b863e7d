// Convolution filter gradients (NHWC, float32) on raw heap pointers, from xp, the zero-padded input
// (convPadInput), and dy[N,OH,OW,co]:
//   regular:   dW[a,b,c,o] = sum over n,oh,ow of xp[n, oh*sh+a, ow*sw+b, c] * dy[n,oh,ow,o]
//   depthwise: dW[a,b,c]   = sum over n,oh,ow of xp[n, oh*sh+a, ow*sw+b, c] * dy[n,oh,ow,c]
// dW is a matrix [K, co]: regular K = kh*kw*ci rows (a,b,c); depthwise K = kh*kw taps (a,b) and
// co = C. Row k reads xp at a fixed byte offset from an output pixel's window origin (rowOffset).
// Register block: 4 rows x 8 columns (8 f32x4 accumulators). Per output pixel, regular: the outer
// product of 4 broadcast x values and 2 dy vectors; depthwise: 4 taps x 2 channel vectors of
// elementwise products. The output rows (n, oh) are taken in chunks whose dy and x stay in L1
// while every block of dW streams over them.

/**
 * xp[N,Hp,Wp,C*rep] = x[N,H,W,C] placed at (top, left), zeros elsewhere, each channel repeated rep
 * times (a depthwise channel multiplier); x rows/columns past Hp/Wp are dropped.
 */
export function convPadInput(
  x: usize, xp: usize, N: i32, H: i32, W: i32, C: i32, Hp: i32, Wp: i32, top: i32, left: i32, rep: i32,
): void {
  const pix = <usize>(C * rep) << 2;
  const qa = min(max(left, 0), Wp);
  const qb = max(min(W + left, Wp), qa);
  const rowOut = <usize>Wp * pix;
  let dst = xp;
  for (let n = 0; n < N; n++) {
    for (let r = 0; r < Hp; r++) {
      const ih = r - top;
      if (ih < 0 || ih >= H || qb == qa) {
        memory.fill(dst, 0, rowOut);
      } else {
        memory.fill(dst, 0, <usize>qa * pix);
        const src = x + ((<usize>((n * H + ih) * W + qa - left) * C) << 2);
        if (rep == 1) memory.copy(dst + <usize>qa * pix, src, <usize>(qb - qa) * pix);
        else repeatChannels(src, dst + <usize>qa * pix, (qb - qa) * C, rep);
        memory.fill(dst + <usize>qb * pix, 0, <usize>(Wp - qb) * pix);
      }
      dst += rowOut;
    }
  }
}

// @ts-ignore: decorator
@inline function repeatChannels(src: usize, dst: usize, count: i32, rep: i32): void {
  for (let i = 0; i < count; i++) {
    const v = load<f32>(src + (<usize>i << 2));
    for (let j = 0; j < rep; j++) {
      store<f32>(dst, v);
      dst += 4;
    }
  }
}

/**
 * dw[kh,kw,ci,co] = the filter gradient (overwritten) of a regular convolution; xp holds N images
 * of Hp rows x Wp columns (the padded copy, or x itself when nothing is padded and Wp == W).
 */
export function convFilterGrad(
  xp: usize, dy: usize, dw: usize, N: i32, OH: i32, OW: i32, Hp: i32, Wp: i32, ci: i32, co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, chunkRows: i32,
): void {
  filterGrad(xp, dy, dw, N, OH, OW, Hp, Wp, ci, co, kh * kw * ci, kw, ci, sh, sw, chunkRows, false);
}

/** dw[kh,kw,C] = the filter gradient (overwritten) of a depthwise convolution (multiplier 1; dy[..., C]), xp as above. */
export function depthwiseFilterGrad(
  xp: usize, dy: usize, dw: usize, N: i32, OH: i32, OW: i32, Hp: i32, Wp: i32, C: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, chunkRows: i32,
): void {
  filterGrad(xp, dy, dw, N, OH, OW, Hp, Wp, C, C, kh * kw, kw, 1, sh, sw, chunkRows, true);
}

/**
 * Byte offset in xp of row k = (a, b, c) of dW from a window origin; kc = channels per tap in K
 * (regular: ci; depthwise: 1, the channel is the column), C = channels of xp.
 */
// @ts-ignore: decorator
@inline function rowOffset(k: i32, kw: i32, kc: i32, C: i32, Wp: i32): usize {
  const a = k / (kw * kc);
  const rem = k - a * kw * kc;
  const b = rem / kc;
  return <usize>((a * Wp + b) * C + rem - b * kc) << 2;
}

// @ts-ignore: decorator
@inline function filterGrad(
  xp: usize, dy: usize, dw: usize, N: i32, OH: i32, OW: i32, Hp: i32, Wp: i32, C: i32, co: i32,
  K: i32, kw: i32, kc: i32, sh: i32, sw: i32, chunkRows: i32, dwise: bool,
): void {
  memory.fill(dw, 0, (<usize>K * co) << 2);
  const rows = N * OH;
  const co4 = co & ~3;
  const imgX = (<usize>Hp * Wp * C) << 2;
  const rowX = (<usize>sh * Wp * C) << 2;
  const pixX = (<usize>sw * C) << 2;
  // Blocks of 4 rows, or of one filter row when it has fewer (1-channel 3x3: 3 + 3 + 3 rows of
  // consecutive x floats rather than 4 + 4 + 1 mixing filter rows).
  const step = !dwise && kw * kc < 4 ? kw * kc : 4;
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const r1 = min(r0 + chunkRows, rows);
    for (let k0 = 0; k0 < K; k0 += step) {
      const nr = min(step, K - k0);
      const o0 = rowOffset(k0, kw, kc, C, Wp);
      const d1 = rowOffset(k0 + min(1, nr - 1), kw, kc, C, Wp) - o0;
      const d2 = rowOffset(k0 + min(2, nr - 1), kw, kc, C, Wp) - o0;
      const d3 = rowOffset(k0 + min(3, nr - 1), kw, kc, C, Wp) - o0;
      const x0 = xp + o0;
      // Rows at consecutive floats of x (channels of one tap, or taps of one filter row when
      // ci = 1 or 3) load with immediate offsets.
      if (!dwise && nr == 4 && d3 == 12) rowBlock(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, 0, 0, 0, k0, 4, true, false);
      else if (!dwise && nr == 3 && d2 == 8) rowBlock(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, 0, 0, 0, k0, 3, true, false);
      else if (nr == 4) rowBlock(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, d1, d2, d3, k0, 4, false, dwise);
      else if (nr == 3) rowBlock(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, d1, d2, d3, k0, 3, false, dwise);
      else if (nr == 2) rowBlock(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, d1, d2, d3, k0, 2, false, dwise);
      else rowBlock(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, d1, d2, d3, k0, 1, false, dwise);
    }
    if (co4 < co) scalarTail(xp, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, K, kw, kc, C, Wp, co4, dwise);
  }
}

/** Rows k0..k0+nr of dw (nr a constant after inlining), all columns but the co % 4 last ones. */
// @ts-ignore: decorator
@inline function rowBlock(
  x0: usize, dy: usize, dw: usize, r0: i32, r1: i32, OH: i32, OW: i32,
  imgX: usize, rowX: usize, pixX: usize, co: i32, d1: usize, d2: usize, d3: usize,
  k0: i32, nr: i32, consec: bool, dwise: bool,
): void {
  const co8 = co & ~7;
  for (let c = 0; c < co8; c += 8) {
    block(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, d1, d2, d3, nr, k0, c, consec, dwise, true);
  }
  if ((co & 4) != 0) block(x0, dy, dw, r0, r1, OH, OW, imgX, rowX, pixX, co, d1, d2, d3, nr, k0, co8, consec, dwise, false);
}

/**
 * dw[k0..k0+nr, c..c+8 (or 4 when !two)] += the sum over output rows r0..r1 of the products.
 * consec: the 4 rows are at x offsets 0, 4, 8, 12 bytes (immediates); else at 0, d1, d2, d3.
 * dwise: x vectors of channels c.. at those offsets instead of broadcast scalars.
 * nr and the flags are constants after inlining: one specialised loop per variant.
 */
// @ts-ignore: decorator
@inline function block(
  x0: usize, dy: usize, dw: usize, r0: i32, r1: i32, OH: i32, OW: i32,
  imgX: usize, rowX: usize, pixX: usize, co: i32, d1: usize, d2: usize, d3: usize,
  nr: i32, k0: i32, c: i32, consec: bool, dwise: bool, two: bool,
): void {
  const zero = f32x4.splat(0);
  let a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero;
  const pixD = <usize>co << 2;
  let n = r0 / OH;
  let oh = r0 - n * OH;
  let pd = dy + ((<usize>r0 * OW * co + c) << 2);
  if (dwise) x0 += <usize>c << 2;
  for (let r = r0; r < r1; r++) {
    let px = x0 + <usize>n * imgX + <usize>oh * rowX;
    const end = pd + <usize>OW * pixD;
    while (pd < end) {
      const v0 = v128.load(pd);
      const v1 = two ? v128.load(pd, 16) : zero;
      if (dwise) {
        a00 = f32x4.add(a00, f32x4.mul(v128.load(px), v0));
        if (two) a01 = f32x4.add(a01, f32x4.mul(v128.load(px, 16), v1));
        if (nr > 1) {
          a10 = f32x4.add(a10, f32x4.mul(v128.load(px + d1), v0));
          if (two) a11 = f32x4.add(a11, f32x4.mul(v128.load(px + d1, 16), v1));
        }
        if (nr > 2) {
          a20 = f32x4.add(a20, f32x4.mul(v128.load(px + d2), v0));
          if (two) a21 = f32x4.add(a21, f32x4.mul(v128.load(px + d2, 16), v1));
        }
        if (nr > 3) {
          a30 = f32x4.add(a30, f32x4.mul(v128.load(px + d3), v0));
          if (two) a31 = f32x4.add(a31, f32x4.mul(v128.load(px + d3, 16), v1));
        }
      } else {
        let s = v128.load32_splat(px);
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
  xp: usize, dy: usize, dw: usize, r0: i32, r1: i32, OH: i32, OW: i32, imgX: usize, rowX: usize,
  pixX: usize, co: i32, K: i32, kw: i32, kc: i32, C: i32, Wp: i32, co4: i32, dwise: bool,
): void {
  const pixD = <usize>co << 2;
  for (let k = 0; k < K; k++) {
    const ok = rowOffset(k, kw, kc, C, Wp);
    for (let c = co4; c < co; c++) {
      let sum: f32 = 0;
      let n = r0 / OH;
      let oh = r0 - n * OH;
      let pd = dy + ((<usize>r0 * OW * co + c) << 2);
      const x0 = xp + ok + (dwise ? <usize>c << 2 : 0);
      for (let r = r0; r < r1; r++) {
        let px = x0 + <usize>n * imgX + <usize>oh * rowX;
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

/**
 * dw[k0..k0+nr, 0..co] += the sum over p < P of x0[p*pixX + 4i] * dy[p*co*4 ..] (i < nr <= 4):
 * the register block over a flat range of "pixels" (the Winograd filter gradient's transformed
 * tiles, asm/filter-winograd.ts). co % 4 == 0.
 */
// @ts-ignore: decorator
@inline export function flatRows(
  x0: usize, dy: usize, dw: usize, P: i32, pixX: usize, co: i32, k0: i32, nr: i32,
): void {
  if (nr >= 4) rowBlock(x0, dy, dw, 0, 1, 1, P, 0, 0, pixX, co, 0, 0, 0, k0, 4, true, false);
  else if (nr == 3) rowBlock(x0, dy, dw, 0, 1, 1, P, 0, 0, pixX, co, 0, 0, 0, k0, 3, true, false);
  else if (nr == 2) rowBlock(x0, dy, dw, 0, 1, 1, P, 0, 0, pixX, co, 0, 0, 0, k0, 2, true, false);
  else rowBlock(x0, dy, dw, 0, 1, 1, P, 0, 0, pixX, co, 0, 0, 0, k0, 1, true, false);
}

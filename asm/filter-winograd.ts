// Filter gradient of a 3x3 stride-1 convolution (NHWC, float32) by Winograd F(3x3, 2x2):
//   dW[a,b,c,o] = sum over n,oh,ow of xp[n, oh+a, ow+b, c] * dy[n,oh,ow,o]
// split into 2x2 tiles of dy (4x4 tiles of xp, stride 2). Per tile, with d the 4x4 x tile and g
// the 2x2 dy tile (zeros past the output's last row/column):
//   dW += G^T [ (B^T d B) . (A g A^T) ] G,   16 multiplies per channel pair instead of 36,
// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], A = [1 0; .5 .5; .5 -.5; 0 1],
// G^T = [1 1 1 0; 0 1 -1 0; 0 1 1 -1] (the forward F(2x2, 3x3) transposed, constants moved into A).
// The sum over tiles comes before G^T . G (it is linear), so per block of P tiles:
//   1. transforms U[k][p][c] = (B^T d_p B)[k], V[k][p][o] = (A g_p A^T)[k], 4 channels per f32x4;
//   2. 16 products M_k[c, o] += sum_p U[k][p][c] V[k][p][o], the 4x8 register block of asm/conv.ts;
// then once dW = G^T M G. Needs ci % 4 == 0 and co % 4 == 0. F(3x3, 4x4) (m = 4, below): 6x6
// tiles of xp, 4x4 tiles of dy, 36 products.
import { flatRows } from './conv';

/** Floats of scratch for blocks of P tiles of m x m outputs (m = 2 or 4). */
export function winogradFilterGradScratchFloats(ci: i32, co: i32, P: i32, m: i32): i32 {
  const T = (m + 2) * (m + 2);
  return T * (P * (ci + co) + 32) + T * ci * co;
}

/**
 * dw[3,3,ci,co] (overwritten) from xp, x zero-padded to at least m*ceil(OH/m) + 2 rows and
 * m*ceil(OW/m) + 2 columns (Hp x Wp, convPadInput), and dy[N,OH,OW,co]; m = 2: F(3x3, 2x2),
 * m = 4: F(3x3, 4x4) (36 multiplies per 4x4 tile of dy instead of 144).
 */
export function convFilterGradWinograd(
  xp: usize, dy: usize, dw: usize, scratch: usize,
  N: i32, OH: i32, OW: i32, Hp: i32, Wp: i32, ci: i32, co: i32, P: i32, m: i32,
): void {
  if (m == 4) winograd(xp, dy, dw, scratch, N, OH, OW, Hp, Wp, ci, co, P, 4);
  else winograd(xp, dy, dw, scratch, N, OH, OW, Hp, Wp, ci, co, P, 2);
}

// @ts-ignore: decorator
@inline function winograd(
  xp: usize, dy: usize, dw: usize, scratch: usize,
  N: i32, OH: i32, OW: i32, Hp: i32, Wp: i32, ci: i32, co: i32, P: i32, m: i32,
): void {
  const T = (m + 2) * (m + 2);
  const TH = (OH + m - 1) / m;
  const TW = (OW + m - 1) / m;
  const tiles = N * TH * TW;
  const ciB = <usize>ci << 2;
  const coB = <usize>co << 2;
  // Bytes from U_k to U_k+1 (and V_k to V_k+1): one cache line more than the data, so that the
  // stores of a tile do not all fall into one L1 set when P * ci * 4 is a multiple of 4096.
  const uStride = <usize>P * ciB + 64;
  const vStride = <usize>P * coB + 64;
  const U = scratch;
  const V = U + <usize>T * uStride;
  const M = V + <usize>T * vStride;
  memory.fill(M, 0, (<usize>T * ci) * coB);
  let n = 0, I = 0, J = 0;
  for (let t0 = 0; t0 < tiles; t0 += P) {
    const np = min(P, tiles - t0);
    for (let p = 0; p < np; p++) {
      const xs = xp + (<usize>(n * Hp + m * I) * Wp + m * J) * ciB;
      const ds = dy + (<usize>(n * OH + m * I) * OW + m * J) * coB;
      if (m == 2) {
        inputTile(xs, U + <usize>p * ciB, ciB, <usize>Wp * ciB, uStride);
        gradTile(ds, V + <usize>p * coB, coB, <usize>OW * coB, vStride, 2 * I + 1 < OH, 2 * J + 1 < OW);
      } else {
        inputTile6(xs, U + <usize>p * ciB, ciB, <usize>Wp * ciB, uStride);
        const nr = min(4, OH - 4 * I);
        const nc = min(4, OW - 4 * J);
        if (nr == 4 && nc == 4) gradTile4(ds, V + <usize>p * coB, coB, <usize>OW * coB, vStride, 4, 4);
        else gradTile4(ds, V + <usize>p * coB, coB, <usize>OW * coB, vStride, nr, nc);
      }
      if (++J == TW) {
        J = 0;
        if (++I == TH) { I = 0; n++; }
      }
    }
    for (let k = 0; k < T; k++) {
      for (let c = 0; c < ci; c += 4) {
        flatRows(U + <usize>k * uStride + (<usize>c << 2), V + <usize>k * vStride, M, np, ciB, co, k * ci + c, min(4, ci - c));
      }
    }
  }
  if (m == 2) outputTransform(M, dw, (<usize>ci * co) << 2);
  else outputTransform6(M, dw, (<usize>ci * co) << 2);
}

/** U[k] = (B^T d B)[k] of the 4x4 tile at src (rows rowB bytes apart), 4 channels at a time. */
// @ts-ignore: decorator
@inline function inputTile(src: usize, dst: usize, ciB: usize, rowB: usize, kStride: usize): void {
  for (let c: usize = 0; c < ciB; c += 16) {
    const s = src + c;
    const q = dst + c;
    // Columns of rows 0 and 2, then U row 0 = e0 - e2.
    let a0 = v128.load(s), a1 = v128.load(s + ciB), a2 = v128.load(s + 2 * ciB), a3 = v128.load(s + 3 * ciB);
    const e00 = f32x4.sub(a0, a2), e01 = f32x4.add(a1, a2), e02 = f32x4.sub(a2, a1), e03 = f32x4.sub(a1, a3);
    let r = s + 2 * rowB;
    a0 = v128.load(r); a1 = v128.load(r + ciB); a2 = v128.load(r + 2 * ciB); a3 = v128.load(r + 3 * ciB);
    const e20 = f32x4.sub(a0, a2), e21 = f32x4.add(a1, a2), e22 = f32x4.sub(a2, a1), e23 = f32x4.sub(a1, a3);
    v128.store(q, f32x4.sub(e00, e20));
    v128.store(q + kStride, f32x4.sub(e01, e21));
    v128.store(q + 2 * kStride, f32x4.sub(e02, e22));
    v128.store(q + 3 * kStride, f32x4.sub(e03, e23));
    // Row 1: U rows 1 = e1 + e2 and 2 = e2 - e1.
    r = s + rowB;
    a0 = v128.load(r); a1 = v128.load(r + ciB); a2 = v128.load(r + 2 * ciB); a3 = v128.load(r + 3 * ciB);
    const e10 = f32x4.sub(a0, a2), e11 = f32x4.add(a1, a2), e12 = f32x4.sub(a2, a1), e13 = f32x4.sub(a1, a3);
    v128.store(q + 4 * kStride, f32x4.add(e10, e20));
    v128.store(q + 5 * kStride, f32x4.add(e11, e21));
    v128.store(q + 6 * kStride, f32x4.add(e12, e22));
    v128.store(q + 7 * kStride, f32x4.add(e13, e23));
    v128.store(q + 8 * kStride, f32x4.sub(e20, e10));
    v128.store(q + 9 * kStride, f32x4.sub(e21, e11));
    v128.store(q + 10 * kStride, f32x4.sub(e22, e12));
    v128.store(q + 11 * kStride, f32x4.sub(e23, e13));
    // Row 3: U row 3 = e1 - e3.
    r = s + 3 * rowB;
    a0 = v128.load(r); a1 = v128.load(r + ciB); a2 = v128.load(r + 2 * ciB); a3 = v128.load(r + 3 * ciB);
    v128.store(q + 12 * kStride, f32x4.sub(e10, f32x4.sub(a0, a2)));
    v128.store(q + 13 * kStride, f32x4.sub(e11, f32x4.add(a1, a2)));
    v128.store(q + 14 * kStride, f32x4.sub(e12, f32x4.sub(a2, a1)));
    v128.store(q + 15 * kStride, f32x4.sub(e13, f32x4.sub(a1, a3)));
  }
}

/** V[k] = (A g A^T)[k] of the 2x2 dy tile at src; the second row / column is zero when !rowOk / !colOk. */
// @ts-ignore: decorator
@inline function gradTile(
  src: usize, dst: usize, coB: usize, rowB: usize, kStride: usize, rowOk: bool, colOk: bool,
): void {
  const zero = f32x4.splat(0);
  const half = f32x4.splat(0.5);
  for (let c: usize = 0; c < coB; c += 16) {
    const s = src + c;
    const q = dst + c;
    const g00 = v128.load(s);
    const g01 = colOk ? v128.load(s + coB) : zero;
    const g10 = rowOk ? v128.load(s + rowB) : zero;
    const g11 = rowOk && colOk ? v128.load(s + rowB + coB) : zero;
    // Columns: h_i = [g_i0, (g_i0 + g_i1)/2, (g_i0 - g_i1)/2, g_i1].
    const h01 = f32x4.mul(half, f32x4.add(g00, g01)), h02 = f32x4.mul(half, f32x4.sub(g00, g01));
    const h11 = f32x4.mul(half, f32x4.add(g10, g11)), h12 = f32x4.mul(half, f32x4.sub(g10, g11));
    // Rows: V = [h0, (h0 + h1)/2, (h0 - h1)/2, h1].
    v128.store(q, g00);
    v128.store(q + kStride, h01);
    v128.store(q + 2 * kStride, h02);
    v128.store(q + 3 * kStride, g01);
    v128.store(q + 4 * kStride, f32x4.mul(half, f32x4.add(g00, g10)));
    v128.store(q + 5 * kStride, f32x4.mul(half, f32x4.add(h01, h11)));
    v128.store(q + 6 * kStride, f32x4.mul(half, f32x4.add(h02, h12)));
    v128.store(q + 7 * kStride, f32x4.mul(half, f32x4.add(g01, g11)));
    v128.store(q + 8 * kStride, f32x4.mul(half, f32x4.sub(g00, g10)));
    v128.store(q + 9 * kStride, f32x4.mul(half, f32x4.sub(h01, h11)));
    v128.store(q + 10 * kStride, f32x4.mul(half, f32x4.sub(h02, h12)));
    v128.store(q + 11 * kStride, f32x4.mul(half, f32x4.sub(g01, g11)));
    v128.store(q + 12 * kStride, g10);
    v128.store(q + 13 * kStride, h11);
    v128.store(q + 14 * kStride, h12);
    v128.store(q + 15 * kStride, g11);
  }
}

/** dw[a][b] = (G^T M G)[a][b] over the ci*co elements (bytes) of each of the 16 matrices M_k. */
// @ts-ignore: decorator
@inline function outputTransform(M: usize, dw: usize, bytes: usize): void {
  for (let e: usize = 0; e < bytes; e += 16) {
    const m = M + e;
    // Rows: r0 = m0 + m1 + m2, r1 = m1 - m2, r2 = m1 + m2 - m3 (m_u = row u of the 4x4 M).
    let r0a: v128, r0b: v128, r0c: v128, r0d: v128, r1a: v128, r1b: v128, r1c: v128, r1d: v128;
    let r2a: v128, r2b: v128, r2c: v128, r2d: v128;
    {
      const a = v128.load(m), b = v128.load(m + 4 * bytes), c = v128.load(m + 8 * bytes), d = v128.load(m + 12 * bytes);
      const bc = f32x4.add(b, c);
      r0a = f32x4.add(a, bc); r1a = f32x4.sub(b, c); r2a = f32x4.sub(bc, d);
    }
    {
      const a = v128.load(m + bytes), b = v128.load(m + 5 * bytes), c = v128.load(m + 9 * bytes), d = v128.load(m + 13 * bytes);
      const bc = f32x4.add(b, c);
      r0b = f32x4.add(a, bc); r1b = f32x4.sub(b, c); r2b = f32x4.sub(bc, d);
    }
    {
      const a = v128.load(m + 2 * bytes), b = v128.load(m + 6 * bytes), c = v128.load(m + 10 * bytes), d = v128.load(m + 14 * bytes);
      const bc = f32x4.add(b, c);
      r0c = f32x4.add(a, bc); r1c = f32x4.sub(b, c); r2c = f32x4.sub(bc, d);
    }
    {
      const a = v128.load(m + 3 * bytes), b = v128.load(m + 7 * bytes), c = v128.load(m + 11 * bytes), d = v128.load(m + 15 * bytes);
      const bc = f32x4.add(b, c);
      r0d = f32x4.add(a, bc); r1d = f32x4.sub(b, c); r2d = f32x4.sub(bc, d);
    }
    // Columns: out[a] = [r_a0 + r_a1 + r_a2, r_a1 - r_a2, r_a1 + r_a2 - r_a3].
    const o = dw + e;
    let bc = f32x4.add(r0b, r0c);
    v128.store(o, f32x4.add(r0a, bc));
    v128.store(o + bytes, f32x4.sub(r0b, r0c));
    v128.store(o + 2 * bytes, f32x4.sub(bc, r0d));
    bc = f32x4.add(r1b, r1c);
    v128.store(o + 3 * bytes, f32x4.add(r1a, bc));
    v128.store(o + 4 * bytes, f32x4.sub(r1b, r1c));
    v128.store(o + 5 * bytes, f32x4.sub(bc, r1d));
    bc = f32x4.add(r2b, r2c);
    v128.store(o + 6 * bytes, f32x4.add(r2a, bc));
    v128.store(o + 7 * bytes, f32x4.sub(r2b, r2c));
    v128.store(o + 8 * bytes, f32x4.sub(bc, r2d));
  }
}

// F(3x3, 4x4): B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0;
// 0 4 0 -5 0 1], A = [1 0 0 0; 1 1 1 1; 1 -1 1 -1; 1 2 4 8; 1 -2 4 -8; 0 0 0 1],
// G^T = [1/4 -1/6 -1/6 1/24 1/24 0; 0 -1/6 1/6 1/12 -1/12 0; 0 -1/6 -1/6 1/6 1/6 1]
// (the forward F(4x4, 3x3) transposed; the fractions stay in G, applied once at the end).

/** out[i * stride] = (B^T d)[i] for the 6 rows of B^T. */
// @ts-ignore: decorator
@inline function btStore(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, q: usize, stride: usize): void {
  const four = f32x4.splat(4);
  const five = f32x4.splat(5);
  v128.store(q, f32x4.add(f32x4.sub(f32x4.mul(four, d0), f32x4.mul(five, d2)), d4));
  v128.store(q + stride, f32x4.sub(f32x4.add(d3, d4), f32x4.mul(four, f32x4.add(d1, d2))));
  v128.store(q + 2 * stride, f32x4.add(f32x4.sub(d4, d3), f32x4.mul(four, f32x4.sub(d1, d2))));
  const u = f32x4.sub(d4, d2);
  const w = f32x4.mul(f32x4.splat(2), f32x4.sub(d3, d1));
  v128.store(q + 3 * stride, f32x4.add(u, w));
  v128.store(q + 4 * stride, f32x4.sub(u, w));
  v128.store(q + 5 * stride, f32x4.add(f32x4.sub(f32x4.mul(four, d1), f32x4.mul(five, d3)), d5));
}

/**
 * U[k] = (B^T d B)[k] of the 6x6 tile at src, 4 channels at a time: t = d B row by row, stored in
 * the planes of U (t[r][j] in plane 6r + j), then B^T t column by column, in place.
 */
// @ts-ignore: decorator
@inline function inputTile6(src: usize, dst: usize, ciB: usize, rowB: usize, kStride: usize): void {
  for (let c: usize = 0; c < ciB; c += 16) {
    const q = dst + c;
    for (let r: usize = 0; r < 6; r++) {
      const s = src + c + r * rowB;
      btStore(v128.load(s), v128.load(s + ciB), v128.load(s + 2 * ciB), v128.load(s + 3 * ciB),
        v128.load(s + 4 * ciB), v128.load(s + 5 * ciB), q + 6 * r * kStride, kStride);
    }
    for (let j: usize = 0; j < 6; j++) {
      const t = q + j * kStride;
      btStore(v128.load(t), v128.load(t + 6 * kStride), v128.load(t + 12 * kStride), v128.load(t + 18 * kStride),
        v128.load(t + 24 * kStride), v128.load(t + 30 * kStride), t, 6 * kStride);
    }
  }
}

/** out[i * stride] = (A x)[i] for the 6 rows of A. */
// @ts-ignore: decorator
@inline function aStore(x0: v128, x1: v128, x2: v128, x3: v128, q: usize, stride: usize): void {
  let u = f32x4.add(x0, x2);
  let w = f32x4.add(x1, x3);
  v128.store(q, x0);
  v128.store(q + stride, f32x4.add(u, w));
  v128.store(q + 2 * stride, f32x4.sub(u, w));
  u = f32x4.add(x0, f32x4.mul(f32x4.splat(4), x2));
  w = f32x4.mul(f32x4.splat(2), f32x4.add(x1, f32x4.mul(f32x4.splat(4), x3)));
  v128.store(q + 3 * stride, f32x4.add(u, w));
  v128.store(q + 4 * stride, f32x4.sub(u, w));
  v128.store(q + 5 * stride, x3);
}

/**
 * V[k] = (A g A^T)[k] of the 4x4 dy tile at src with nr valid rows and nc valid columns (the rest
 * zero): h = g A^T row by row (24 values), then A h column by column.
 */
// @ts-ignore: decorator
@inline function gradTile4(src: usize, dst: usize, coB: usize, rowB: usize, kStride: usize, nr: i32, nc: i32): void {
  const z = f32x4.splat(0);
  const two = f32x4.splat(2);
  const four = f32x4.splat(4);
  for (let c: usize = 0; c < coB; c += 16) {
    const s = src + c;
    const q = dst + c;
    let h00 = z, h01 = z, h02 = z, h03 = z, h04 = z, h05 = z;
    let h10 = z, h11 = z, h12 = z, h13 = z, h14 = z, h15 = z;
    let h20 = z, h21 = z, h22 = z, h23 = z, h24 = z, h25 = z;
    let h30 = z, h31 = z, h32 = z, h33 = z, h34 = z, h35 = z;
    let r: usize, g0: v128, g1: v128, g2: v128, g3: v128, u: v128, w: v128;
    r = s;
    g0 = v128.load(r); g1 = nc > 1 ? v128.load(r + coB) : z;
    g2 = nc > 2 ? v128.load(r + 2 * coB) : z; g3 = nc > 3 ? v128.load(r + 3 * coB) : z;
    h00 = g0; h05 = g3;
    u = f32x4.add(g0, g2); w = f32x4.add(g1, g3); h01 = f32x4.add(u, w); h02 = f32x4.sub(u, w);
    u = f32x4.add(g0, f32x4.mul(four, g2)); w = f32x4.mul(two, f32x4.add(g1, f32x4.mul(four, g3)));
    h03 = f32x4.add(u, w); h04 = f32x4.sub(u, w);
    if (nr > 1) {
      r = s + 1 * rowB;
      g0 = v128.load(r); g1 = nc > 1 ? v128.load(r + coB) : z;
      g2 = nc > 2 ? v128.load(r + 2 * coB) : z; g3 = nc > 3 ? v128.load(r + 3 * coB) : z;
      h10 = g0; h15 = g3;
      u = f32x4.add(g0, g2); w = f32x4.add(g1, g3); h11 = f32x4.add(u, w); h12 = f32x4.sub(u, w);
      u = f32x4.add(g0, f32x4.mul(four, g2)); w = f32x4.mul(two, f32x4.add(g1, f32x4.mul(four, g3)));
      h13 = f32x4.add(u, w); h14 = f32x4.sub(u, w);
    }
    if (nr > 2) {
      r = s + 2 * rowB;
      g0 = v128.load(r); g1 = nc > 1 ? v128.load(r + coB) : z;
      g2 = nc > 2 ? v128.load(r + 2 * coB) : z; g3 = nc > 3 ? v128.load(r + 3 * coB) : z;
      h20 = g0; h25 = g3;
      u = f32x4.add(g0, g2); w = f32x4.add(g1, g3); h21 = f32x4.add(u, w); h22 = f32x4.sub(u, w);
      u = f32x4.add(g0, f32x4.mul(four, g2)); w = f32x4.mul(two, f32x4.add(g1, f32x4.mul(four, g3)));
      h23 = f32x4.add(u, w); h24 = f32x4.sub(u, w);
    }
    if (nr > 3) {
      r = s + 3 * rowB;
      g0 = v128.load(r); g1 = nc > 1 ? v128.load(r + coB) : z;
      g2 = nc > 2 ? v128.load(r + 2 * coB) : z; g3 = nc > 3 ? v128.load(r + 3 * coB) : z;
      h30 = g0; h35 = g3;
      u = f32x4.add(g0, g2); w = f32x4.add(g1, g3); h31 = f32x4.add(u, w); h32 = f32x4.sub(u, w);
      u = f32x4.add(g0, f32x4.mul(four, g2)); w = f32x4.mul(two, f32x4.add(g1, f32x4.mul(four, g3)));
      h33 = f32x4.add(u, w); h34 = f32x4.sub(u, w);
    }
    aStore(h00, h10, h20, h30, q, 6 * kStride);
    aStore(h01, h11, h21, h31, q + 1 * kStride, 6 * kStride);
    aStore(h02, h12, h22, h32, q + 2 * kStride, 6 * kStride);
    aStore(h03, h13, h23, h33, q + 3 * kStride, 6 * kStride);
    aStore(h04, h14, h24, h34, q + 4 * kStride, 6 * kStride);
    aStore(h05, h15, h25, h35, q + 5 * kStride, 6 * kStride);
  }
}

/** Row a of G^T applied to (m0..m5). */
// @ts-ignore: decorator
@inline function gt(a: i32, m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128): v128 {
  const sixth = f32x4.splat(<f32>(1.0 / 6.0));
  if (a == 0) {
    return f32x4.add(f32x4.sub(f32x4.mul(f32x4.splat(0.25), m0), f32x4.mul(sixth, f32x4.add(m1, m2))),
      f32x4.mul(f32x4.splat(<f32>(1.0 / 24.0)), f32x4.add(m3, m4)));
  }
  if (a == 1) {
    return f32x4.add(f32x4.mul(sixth, f32x4.sub(m2, m1)), f32x4.mul(f32x4.splat(<f32>(1.0 / 12.0)), f32x4.sub(m3, m4)));
  }
  return f32x4.add(f32x4.mul(sixth, f32x4.sub(f32x4.add(m3, m4), f32x4.add(m1, m2))), m5);
}

/** Row a of G^T M (column v) for the 6 rows of M_k at m (planes `bytes` apart). */
// @ts-ignore: decorator
@inline function gtLoad(a: i32, m: usize, bytes: usize): v128 {
  return gt(a, v128.load(m), v128.load(m + 6 * bytes), v128.load(m + 12 * bytes), v128.load(m + 18 * bytes),
    v128.load(m + 24 * bytes), v128.load(m + 30 * bytes));
}

/** dw[a][b] = (G^T M G)[a][b] over the ci*co elements (bytes) of each of the 36 matrices M_k. */
// @ts-ignore: decorator
@inline function outputTransform6(M: usize, dw: usize, bytes: usize): void {
  for (let e: usize = 0; e < bytes; e += 16) {
    const m = M + e;
    const o = dw + e;
    for (let a = 0; a < 3; a++) {
      // r_v = (G^T M)[a][v]; out[a][b] = (r G)[b].
      const r0 = a == 0 ? gtLoad(0, m, bytes) : a == 1 ? gtLoad(1, m, bytes) : gtLoad(2, m, bytes);
      const r1 = a == 0 ? gtLoad(0, m + bytes, bytes) : a == 1 ? gtLoad(1, m + bytes, bytes) : gtLoad(2, m + bytes, bytes);
      const r2 = a == 0 ? gtLoad(0, m + 2 * bytes, bytes) : a == 1 ? gtLoad(1, m + 2 * bytes, bytes) : gtLoad(2, m + 2 * bytes, bytes);
      const r3 = a == 0 ? gtLoad(0, m + 3 * bytes, bytes) : a == 1 ? gtLoad(1, m + 3 * bytes, bytes) : gtLoad(2, m + 3 * bytes, bytes);
      const r4 = a == 0 ? gtLoad(0, m + 4 * bytes, bytes) : a == 1 ? gtLoad(1, m + 4 * bytes, bytes) : gtLoad(2, m + 4 * bytes, bytes);
      const r5 = a == 0 ? gtLoad(0, m + 5 * bytes, bytes) : a == 1 ? gtLoad(1, m + 5 * bytes, bytes) : gtLoad(2, m + 5 * bytes, bytes);
      const out = o + <usize>(a * 3) * bytes;
      v128.store(out, gt(0, r0, r1, r2, r3, r4, r5));
      v128.store(out + bytes, gt(1, r0, r1, r2, r3, r4, r5));
      v128.store(out + 2 * bytes, gt(2, r0, r1, r2, r3, r4, r5));
    }
  }
}

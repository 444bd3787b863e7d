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
// then once dW = G^T M G. Needs ci % 4 == 0 and co % 4 == 0.
import { flatRows } from './conv';

/** Floats of scratch for blocks of P tiles. */
export function winogradFilterGradScratchFloats(ci: i32, co: i32, P: i32): i32 {
  return 16 * (P * (ci + co) + 32) + 16 * ci * co;
}

/**
 * dw[3,3,ci,co] (overwritten) from xp, x zero-padded to at least 2*ceil(OH/2) + 2 rows and
 * 2*ceil(OW/2) + 2 columns (Hp x Wp, convPadInput), and dy[N,OH,OW,co].
 */
export function convFilterGradWinograd(
  xp: usize, dy: usize, dw: usize, scratch: usize,
  N: i32, OH: i32, OW: i32, Hp: i32, Wp: i32, ci: i32, co: i32, P: i32,
): void {
  const TH = (OH + 1) >> 1;
  const TW = (OW + 1) >> 1;
  const tiles = N * TH * TW;
  const ciB = <usize>ci << 2;
  const coB = <usize>co << 2;
  // Bytes from U_k to U_k+1 (and V_k to V_k+1): one cache line more than the data, so that the 16
  // stores of a tile do not all fall into one L1 set when P * ci * 4 is a multiple of 4096.
  const uStride = <usize>P * ciB + 64;
  const vStride = <usize>P * coB + 64;
  const U = scratch;
  const V = U + 16 * uStride;
  const M = V + 16 * vStride;
  memory.fill(M, 0, (<usize>16 * ci) * coB);
  let n = 0, I = 0, J = 0;
  for (let t0 = 0; t0 < tiles; t0 += P) {
    const np = min(P, tiles - t0);
    for (let p = 0; p < np; p++) {
      const xs = xp + (<usize>(n * Hp + 2 * I) * Wp + 2 * J) * ciB;
      inputTile(xs, U + <usize>p * ciB, ciB, <usize>Wp * ciB, uStride);
      const ds = dy + (<usize>(n * OH + 2 * I) * OW + 2 * J) * coB;
      gradTile(ds, V + <usize>p * coB, coB, <usize>OW * coB, vStride, 2 * I + 1 < OH, 2 * J + 1 < OW);
      if (++J == TW) {
        J = 0;
        if (++I == TH) { I = 0; n++; }
      }
    }
    for (let k = 0; k < 16; k++) {
      for (let c = 0; c < ci; c += 4) {
        flatRows(U + <usize>k * uStride + (<usize>c << 2), V + <usize>k * vStride, M, np, ciB, co, k * ci + c, min(4, ci - c));
      }
    }
  }
  outputTransform(M, dw, (<usize>ci * co) << 2);
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

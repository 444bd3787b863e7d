// 3x3 stride-1 convolution (NHWC, float32) by Winograd F(4x4, 3x3): as winograd.ts, but 4x4 output
// tiles from 6x6 input tiles, 36 products per tile and channel pair for 16 outputs (2.25 per output
// instead of F(2x2)'s 4). The transforms multiply by small constants (Lavin & Gray's points 0, +-1,
// +-2), so float32 rounding grows by a few ulps more than F(2x2)'s (~4e-6 of the largest output).
// Both 6x6 transforms go through a small scratch in two 1-D passes (columns, then rows) so that no
// more than ~12 vectors are live. The GEMMs are winograd.ts's, on 36 planes.
import { filterPlaneBytes, loadN, multiply, PAD, storeN, tapV } from './winograd';

/** Floats of scratch for C input channels, O output channels and blocks of TB tiles. */
export function winograd4ScratchFloats(C: i32, O: i32, TB: i32): i32 {
  const tb = (TB + 3) & ~3;
  return (C + 4) + 36 * ((C + 3) & ~3) + 96 + 36 * (tb * C + PAD) + 36 * (tb * ((O + 7) & ~7) + PAD);
}

/** Floats of the packed filter transform (36 planes of 8-column panels). */
export function winograd4FilterFloats(C: i32, O: i32): i32 {
  return 36 * (C * ((O + 7) & ~7) + PAD);
}

/** Row i of G (6 x 3) times (a, b, c), i a constant after inlining. */
// @ts-ignore: decorator
@inline function gRow(i: i32, a: v128, b: v128, c: v128): v128 {
  if (i == 0) return f32x4.mul(a, f32x4.splat(0.25));
  if (i == 1) return f32x4.mul(f32x4.add(f32x4.add(a, b), c), f32x4.splat(-1.0 / 6));
  if (i == 2) return f32x4.mul(f32x4.add(f32x4.sub(a, b), c), f32x4.splat(-1.0 / 6));
  const e = f32x4.add(f32x4.mul(a, f32x4.splat(1.0 / 24)), f32x4.mul(c, f32x4.splat(1.0 / 6)));
  if (i == 3) return f32x4.add(e, f32x4.mul(b, f32x4.splat(1.0 / 12)));
  if (i == 4) return f32x4.sub(e, f32x4.mul(b, f32x4.splat(1.0 / 12)));
  return c;
}

/** Stores row i of G g G^T: G (a, b, c) at p + j * ks, j = 0..5. */
// @ts-ignore: decorator
@inline function rowG(p: usize, ks: usize, a: v128, b: v128, c: v128): void {
  v128.store(p, gRow(0, a, b, c));
  v128.store(p + ks, gRow(1, a, b, c));
  v128.store(p + ks * 2, gRow(2, a, b, c));
  v128.store(p + ks * 3, gRow(3, a, b, c));
  v128.store(p + ks * 4, gRow(4, a, b, c));
  v128.store(p + ks * 5, c);
}

/** u = G g G^T for every (c, o), 4 output channels per vector, laid out as winogradFilter's (36 planes). */
export function winograd4Filter(w: usize, u: usize, C: i32, O: i32, flipSwap: bool): void {
  memory.fill(u, 0, <usize>winograd4FilterFloats(C, O) << 2);
  const ks = filterPlaneBytes(C, O);
  const row = ks * 6;
  for (let c = 0; c < C; c++) {
    for (let o = 0; o < O; o += 4) {
      const p = u + (<usize>((o >> 3) * C + c) << 5) + (<usize>(o & 4) << 2);
      const g00 = tapV(w, 0, 0, c, o, C, O, flipSwap), g01 = tapV(w, 0, 1, c, o, C, O, flipSwap);
      const g02 = tapV(w, 0, 2, c, o, C, O, flipSwap), g10 = tapV(w, 1, 0, c, o, C, O, flipSwap);
      const g11 = tapV(w, 1, 1, c, o, C, O, flipSwap), g12 = tapV(w, 1, 2, c, o, C, O, flipSwap);
      const g20 = tapV(w, 2, 0, c, o, C, O, flipSwap), g21 = tapV(w, 2, 1, c, o, C, O, flipSwap);
      const g22 = tapV(w, 2, 2, c, o, C, O, flipSwap);
      rowG(p, ks, gRow(0, g00, g10, g20), gRow(0, g01, g11, g21), gRow(0, g02, g12, g22));
      rowG(p + row, ks, gRow(1, g00, g10, g20), gRow(1, g01, g11, g21), gRow(1, g02, g12, g22));
      rowG(p + row * 2, ks, gRow(2, g00, g10, g20), gRow(2, g01, g11, g21), gRow(2, g02, g12, g22));
      rowG(p + row * 3, ks, gRow(3, g00, g10, g20), gRow(3, g01, g11, g21), gRow(3, g02, g12, g22));
      rowG(p + row * 4, ks, gRow(4, g00, g10, g20), gRow(4, g01, g11, g21), gRow(4, g02, g12, g22));
      rowG(p + row * 5, ks, g20, g21, g22);
    }
  }
}

/**
 * y[N, OH, OW, O] = the stride-1 3x3 convolution of x[N, H, W, C] padded by (top, left) with the
 * filter whose transform winograd4Filter wrote to u; + bias[O] when bias != 0, then relu if asked.
 */
export function winograd4Conv(
  x: usize, u: usize, y: usize, bias: usize, scratch: usize,
  N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, O: i32, top: i32, left: i32,
  relu: bool, TB: i32,
): void {
  const tb = (TB + 3) & ~3;
  const Op = (O + 7) & ~7;
  const Cp = (C + 3) & ~3;
  const zeros = scratch;
  memory.fill(zeros, 0, <usize>(C + 4) << 2);
  const itmp = zeros + (<usize>(C + 4) << 2);
  const otmp = itmp + (<usize>(36 * Cp) << 2);
  const V = otmp + 96 * 4; // otmp: 24 vectors (A^T M)
  const vPlane: usize = <usize>(tb * C + PAD) << 2;
  const M = V + vPlane * 36;
  const mPlane: usize = <usize>(tb * Op + PAD) << 2;
  const TY = (OH + 3) >> 2;
  const TX = (OW + 3) >> 2;
  const T = N * TY * TX;
  for (let t0 = 0; t0 < T; t0 += TB) {
    const nt = min(TB, T - t0);
    inputTransform(x, zeros, itmp, V, vPlane, t0, nt, TY, TX, H, W, C, Cp, top, left);
    multiply(V, vPlane, u, M, mPlane, nt, C, O, Op, 36);
    outputTransform(M, mPlane, otmp, y, bias, t0, nt, TY, TX, OH, OW, O, Op, relu);
  }
}

/** Stores B^T d (6 values) to q + i * stride, i = 0..5. */
// @ts-ignore: decorator
@inline function bt6(q: usize, stride: usize, d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128): void {
  const four = f32x4.splat(4), five = f32x4.splat(5);
  v128.store(q, f32x4.add(f32x4.sub(f32x4.mul(d0, four), f32x4.mul(d2, five)), d4));
  const t1 = f32x4.sub(d4, f32x4.mul(d2, four)), t2 = f32x4.sub(d3, f32x4.mul(d1, four));
  v128.store(q + stride, f32x4.add(t1, t2));
  v128.store(q + stride * 2, f32x4.sub(t1, t2));
  const t3 = f32x4.sub(d4, d2), t4 = f32x4.sub(d3, d1);
  const t4x2 = f32x4.add(t4, t4);
  v128.store(q + stride * 3, f32x4.add(t3, t4x2));
  v128.store(q + stride * 4, f32x4.sub(t3, t4x2));
  v128.store(q + stride * 5, f32x4.add(f32x4.sub(f32x4.mul(d1, four), f32x4.mul(d3, five)), d5));
}

/** V[k][t][c] for tiles t0 .. t0 + nt: columns of B^T d into itmp, then rows of (B^T d) B into V. */
function inputTransform(
  x: usize, zeros: usize, itmp: usize, V: usize, vPlane: usize, t0: i32, nt: i32, TY: i32, TX: i32,
  H: i32, W: i32, C: i32, Cp: i32, top: i32, left: i32,
): void {
  const pix: usize = <usize>C << 2;
  const rowB: usize = <usize>W * pix;
  const tStride: usize = <usize>Cp << 2; // itmp[s][i][c]: (s * 6 + i) * Cp + c
  const C4 = C & ~3;
  let n = t0 / (TY * TX);
  const rem = t0 - n * TY * TX;
  let ty = rem / TX;
  let tx = rem - ty * TX;
  for (let t = 0; t < nt; t++) {
    const ih = 4 * ty - top;
    const iw = 4 * tx - left;
    const base = x + <usize>n * H * rowB + <usize>ih * rowB + <usize>iw * pix; // used only when in range
    const h0 = <u32>ih < <u32>H, h1 = <u32>(ih + 1) < <u32>H, h2 = <u32>(ih + 2) < <u32>H;
    const h3 = <u32>(ih + 3) < <u32>H, h4 = <u32>(ih + 4) < <u32>H, h5 = <u32>(ih + 5) < <u32>H;
    for (let s = 0; s < 6; s++) {
      const ws = <u32>(iw + s) < <u32>W;
      const col = base + <usize>s * pix;
      const p0 = h0 && ws ? col : zeros, p1 = h1 && ws ? col + rowB : zeros;
      const p2 = h2 && ws ? col + rowB * 2 : zeros, p3 = h3 && ws ? col + rowB * 3 : zeros;
      const p4 = h4 && ws ? col + rowB * 4 : zeros, p5 = h5 && ws ? col + rowB * 5 : zeros;
      const q = itmp + <usize>(s * 6) * tStride;
      for (let c = 0; c < C4; c += 4) {
        const o: usize = <usize>c << 2;
        bt6(q + o, tStride, v128.load(p0 + o), v128.load(p1 + o), v128.load(p2 + o),
          v128.load(p3 + o), v128.load(p4 + o), v128.load(p5 + o));
      }
      if (C4 < C) {
        const o: usize = <usize>C4 << 2;
        const k = C - C4;
        bt6(q + o, tStride, loadN(p0 + o, k), loadN(p1 + o, k), loadN(p2 + o, k),
          loadN(p3 + o, k), loadN(p4 + o, k), loadN(p5 + o, k));
      }
    }
    // Row i of (B^T d) B: itmp[0..5][i] -> V[i * 6 + j], j = 0..5. The channel tail's full-vector
    // stores spill into the next tile's row (written after this one) or the plane's PAD spare floats.
    const vt = V + <usize>t * pix;
    const s6 = tStride * 6;
    for (let i = 0; i < 6; i++) {
      const src = itmp + <usize>i * tStride;
      const dst = vt + <usize>(i * 6) * vPlane;
      for (let c = 0; c < C; c += 4) {
        const o: usize = <usize>c << 2;
        const a = src + o;
        bt6(dst + o, vPlane, v128.load(a), v128.load(a + s6), v128.load(a + s6 * 2),
          v128.load(a + s6 * 3), v128.load(a + s6 * 4), v128.load(a + s6 * 5));
      }
    }
    if (++tx == TX) {
      tx = 0;
      if (++ty == TY) { ty = 0; n++; }
    }
  }
}

/** Stores A^T m (4 values) to q + r * stride, r = 0..3. */
// @ts-ignore: decorator
@inline function at6(q: usize, stride: usize, m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128): void {
  const a = f32x4.add(m1, m2), b = f32x4.sub(m1, m2), c = f32x4.add(m3, m4), d = f32x4.sub(m3, m4);
  v128.store(q, f32x4.add(f32x4.add(m0, a), c));
  v128.store(q + stride, f32x4.add(b, f32x4.add(d, d)));
  v128.store(q + stride * 2, f32x4.add(a, f32x4.mul(c, f32x4.splat(4))));
  v128.store(q + stride * 3, f32x4.add(f32x4.add(b, f32x4.mul(d, f32x4.splat(8))), m5));
}

/** y at the valid pixels of tiles t0 .. t0 + nt from M: A^T M A (+ bias, relu), 4 channels at a time. */
function outputTransform(
  M: usize, mPlane: usize, otmp: usize, y: usize, bias: usize, t0: i32, nt: i32, TY: i32, TX: i32,
  OH: i32, OW: i32, O: i32, Op: i32, relu: bool,
): void {
  const pix: usize = <usize>O << 2;
  const rowB: usize = <usize>OW * pix;
  let n = t0 / (TY * TX);
  const rem = t0 - n * TY * TX;
  let ty = rem / TX;
  let tx = rem - ty * TX;
  const zero = f32x4.splat(0);
  for (let t = 0; t < nt; t++) {
    const oh = 4 * ty, ow = 4 * tx;
    const rows = min(4, OH - oh), cols = min(4, OW - ow);
    const q0 = y + <usize>(n * OH + oh) * rowB + <usize>ow * pix;
    const mt = M + <usize>t * (<usize>Op << 2);
    for (let c = 0; c < O; c += 4) {
      const m = mt + (<usize>c << 2);
      // Columns: otmp[s][r] = (A^T M)[r][s], 16 bytes each, s * 64 + r * 16.
      for (let s = 0; s < 6; s++) {
        const p = m + <usize>s * mPlane;
        const m6 = mPlane * 6;
        at6(otmp + (<usize>s << 6), 16, v128.load(p), v128.load(p + m6), v128.load(p + m6 * 2),
          v128.load(p + m6 * 3), v128.load(p + m6 * 4), v128.load(p + m6 * 5));
      }
      const k = O - c;
      const bv = bias != 0 ? loadN(bias + (<usize>c << 2), k) : zero;
      for (let r = 0; r < rows; r++) {
        // Row r: (A^T M A)[r][j] = A^T[j] . otmp[0..5][r].
        const a = otmp + (<usize>r << 4);
        const m0 = v128.load(a), m1 = v128.load(a, 64), m2 = v128.load(a, 128);
        const m3 = v128.load(a, 192), m4 = v128.load(a, 256), m5 = v128.load(a, 320);
        const sa = f32x4.add(m1, m2), sb = f32x4.sub(m1, m2), sc = f32x4.add(m3, m4), sd = f32x4.sub(m3, m4);
        let y0 = f32x4.add(f32x4.add(f32x4.add(m0, sa), sc), bv);
        let y1 = f32x4.add(f32x4.add(sb, f32x4.add(sd, sd)), bv);
        let y2 = f32x4.add(f32x4.add(sa, f32x4.mul(sc, f32x4.splat(4))), bv);
        let y3 = f32x4.add(f32x4.add(f32x4.add(sb, f32x4.mul(sd, f32x4.splat(8))), m5), bv);
        if (relu) {
          y0 = f32x4.max(y0, zero); y1 = f32x4.max(y1, zero);
          y2 = f32x4.max(y2, zero); y3 = f32x4.max(y3, zero);
        }
        const q = q0 + <usize>r * rowB + (<usize>c << 2);
        if (cols == 4 && k >= 4) {
          v128.store(q, y0);
          v128.store(q + pix, y1);
          v128.store(q + pix * 2, y2);
          v128.store(q + pix * 3, y3);
        } else {
          storeN(q, y0, k);
          if (cols > 1) storeN(q + pix, y1, k);
          if (cols > 2) storeN(q + pix * 2, y2, k);
          if (cols > 3) storeN(q + pix * 3, y3, k);
        }
      }
    }
    if (++tx == TX) {
      tx = 0;
      if (++ty == TY) { ty = 0; n++; }
    }
  }
}

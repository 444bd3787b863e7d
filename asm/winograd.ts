// 3x3 stride-1 convolution (NHWC, float32) by Winograd F(2x2, 3x3) on raw heap pointers:
//   y[n, oh, ow, o] = sum over a, b, c of x[n, oh - top + a, ow - left + b, c] * g[a, b, c, o]
// (x is zero outside [0, H) x [0, W)), computed per 2x2 output tile from a 4x4 input tile as
//   Y = A^T [ (G g G^T) . (B^T d B) ] A,   16 multiplies per tile and channel pair instead of 36.
// The filter transform U (16 matrices [C, O], packed as 8-column panels) is made once per call by
// winogradFilter. Then, per block of TB tiles (the block's V and M stay in L2, one V_k in L1):
//   1. input transform: V[k][t][c] = (B^T d_t B)[k] for 4 channels per f32x4 (adds only);
//   2. 16 GEMMs M_k = V_k U_k ([TB, C] . [C, O]), a 4-tile x 8-column register block: per channel
//      4 splat loads of V and 2 loads of the U panel, 8 mul + 8 add;
//   3. output transform Y = A^T M A (+ bias, relu), stored to the tile's valid output pixels.
// Scratch (winogradScratchFloats): C + 4 zero floats (read in place of padding), V, M.

export { winograd4Conv, winograd4Filter, winograd4FilterFloats, winograd4ScratchFloats } from './winograd4';
export { conv3x3Direct } from './conv3x3';

/**
 * Floats after each plane of V and M: they take the tail channels' full-vector stores, and shift
 * consecutive planes by a cache line (planes of 2^n bytes put the 16 or 36 loads of one tile's
 * output transform into one L1 set: F(4x4)'s output transform ran 2.5x slower).
 */
export const PAD: i32 = 16;

/** Floats of scratch for C input channels, O output channels and blocks of TB tiles. */
export function winogradScratchFloats(C: i32, O: i32, TB: i32): i32 {
  const tb = (TB + 3) & ~3;
  return (C + 4) + 16 * (tb * C + PAD) + 16 * (tb * ((O + 7) & ~7) + PAD);
}

/** Bytes between consecutive planes of the packed filter transform (panels + PAD floats). */
export function filterPlaneBytes(C: i32, O: i32): usize {
  return <usize>(C * ((O + 7) & ~7) + PAD) << 2;
}

/** Floats of the packed filter transform. */
export function winogradFilterFloats(C: i32, O: i32): i32 {
  return 16 * (C * ((O + 7) & ~7) + PAD);
}

/**
 * Taps g[a, b, c, o .. o + 4] (lanes past O zero). flipSwap: w is [3, 3, O, C] and the convolution
 * uses w[2 - a, 2 - b, o, c] (input gradient): 4 loads C floats apart.
 */
// @ts-ignore: decorator
@inline export function tapV(w: usize, a: i32, b: i32, c: i32, o: i32, C: i32, O: i32, flipSwap: bool): v128 {
  const n = O - o;
  if (!flipSwap) return loadN(w + (<usize>(((a * 3 + b) * C + c) * O + o) << 2), n);
  const p = w + (<usize>(((8 - a * 3 - b) * O + o) * C + c) << 2);
  const s: usize = <usize>C << 2;
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + s));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + s * 2));
  if (n > 3) v = f32x4.replace_lane(v, 3, load<f32>(p + s * 3));
  return v;
}

/**
 * u = G g G^T for every (c, o), 4 output channels per vector, as 16 planes (filterPlaneBytes apart)
 * of ceil(O/8) panels [C][8] (columns past O zero): element (k, c, o) at byte
 * k * filterPlaneBytes + (((o / 8) * C + c) * 8 + o % 8) * 4.
 */
export function winogradFilter(w: usize, u: usize, C: i32, O: i32, flipSwap: bool): void {
  memory.fill(u, 0, <usize>winogradFilterFloats(C, O) << 2);
  const ks = filterPlaneBytes(C, O);
  const half = f32x4.splat(0.5);
  for (let c = 0; c < C; c++) {
    for (let o = 0; o < O; o += 4) {
      const p = u + (<usize>((o >> 3) * C + c) << 5) + (<usize>(o & 4) << 2);
      const g00 = tapV(w, 0, 0, c, o, C, O, flipSwap), g01 = tapV(w, 0, 1, c, o, C, O, flipSwap);
      const g02 = tapV(w, 0, 2, c, o, C, O, flipSwap), g10 = tapV(w, 1, 0, c, o, C, O, flipSwap);
      const g11 = tapV(w, 1, 1, c, o, C, O, flipSwap), g12 = tapV(w, 1, 2, c, o, C, O, flipSwap);
      const g20 = tapV(w, 2, 0, c, o, C, O, flipSwap), g21 = tapV(w, 2, 1, c, o, C, O, flipSwap);
      const g22 = tapV(w, 2, 2, c, o, C, O, flipSwap);
      // Rows of G g: r0 = g0, r1 = (g0 + g1 + g2) / 2, r2 = (g0 - g1 + g2) / 2, r3 = g2.
      rowG(p, ks, g00, g01, g02);
      rowG(p + ks * 4, ks, f32x4.mul(f32x4.add(f32x4.add(g00, g10), g20), half),
        f32x4.mul(f32x4.add(f32x4.add(g01, g11), g21), half), f32x4.mul(f32x4.add(f32x4.add(g02, g12), g22), half));
      rowG(p + ks * 8, ks, f32x4.mul(f32x4.add(f32x4.sub(g00, g10), g20), half),
        f32x4.mul(f32x4.add(f32x4.sub(g01, g11), g21), half), f32x4.mul(f32x4.add(f32x4.sub(g02, g12), g22), half));
      rowG(p + ks * 12, ks, g20, g21, g22);
    }
  }
}

/** Stores (x G^T) of one row (4 values, ks bytes apart). */
// @ts-ignore: decorator
@inline function rowG(p: usize, ks: usize, a: v128, b: v128, c: v128): void {
  const half = f32x4.splat(0.5);
  v128.store(p, a);
  v128.store(p + ks, f32x4.mul(f32x4.add(f32x4.add(a, b), c), half));
  v128.store(p + ks * 2, f32x4.mul(f32x4.add(f32x4.sub(a, b), c), half));
  v128.store(p + ks * 3, c);
}

/**
 * y[N, OH, OW, O] = the stride-1 3x3 convolution of x[N, H, W, C] padded by (top, left) with the
 * filter whose transform winogradFilter wrote to u; + bias[O] when bias != 0, then relu if asked.
 */
export function winogradConv(
  x: usize, u: usize, y: usize, bias: usize, scratch: usize,
  N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, O: i32, top: i32, left: i32,
  relu: bool, TB: i32,
): void {
  const tb = (TB + 3) & ~3;
  const Op = (O + 7) & ~7;
  const zeros = scratch;
  memory.fill(zeros, 0, <usize>(C + 4) << 2);
  const V = zeros + (<usize>(C + 4) << 2);
  const vPlane: usize = <usize>(tb * C + PAD) << 2;
  const M = V + vPlane * 16;
  const mPlane: usize = <usize>(tb * Op + PAD) << 2;
  const TY = (OH + 1) >> 1;
  const TX = (OW + 1) >> 1;
  const T = N * TY * TX;
  for (let t0 = 0; t0 < T; t0 += TB) {
    const nt = min(TB, T - t0);
    inputTransform(x, zeros, V, vPlane, t0, nt, TY, TX, H, W, C, top, left);
    multiply(V, vPlane, u, M, mPlane, nt, C, O, Op, 16);
    outputTransform(M, mPlane, y, bias, t0, nt, TY, TX, OH, OW, O, Op, relu);
  }
}

// @ts-ignore: decorator
@inline export function loadN(p: usize, n: i32): v128 {
  // The first n (1..4) floats at p, zeros after (never reads past them).
  if (n >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// @ts-ignore: decorator
@inline export function storeN(p: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(p, v); return; }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** V[k][t][c] for tiles t0 .. t0 + nt (t local to the block), 4 channels at a time. */
function inputTransform(
  x: usize, zeros: usize, V: usize, vPlane: usize, t0: i32, nt: i32, TY: i32, TX: i32,
  H: i32, W: i32, C: i32, top: i32, left: i32,
): void {
  const pix: usize = <usize>C << 2;
  const rowB: usize = <usize>W * pix;
  let n = t0 / (TY * TX);
  let rem = t0 - n * TY * TX;
  let ty = rem / TX;
  let tx = rem - ty * TX;
  const C4 = C & ~3;
  for (let t = 0; t < nt; t++) {
    const ih = 2 * ty - top;
    const iw = 2 * tx - left;
    const img = x + <usize>n * H * rowB;
    // Pointer of input (ih + r, iw + s), or the zero row when it lies in the padding.
    const h0 = <u32>ih < <u32>H, h1 = <u32>(ih + 1) < <u32>H, h2 = <u32>(ih + 2) < <u32>H, h3 = <u32>(ih + 3) < <u32>H;
    const w0 = <u32>iw < <u32>W, w1 = <u32>(iw + 1) < <u32>W, w2 = <u32>(iw + 2) < <u32>W, w3 = <u32>(iw + 3) < <u32>W;
    const base = img + <usize>ih * rowB + <usize>iw * pix; // wraps when out of range: only used when valid
    const p00 = h0 && w0 ? base : zeros, p01 = h0 && w1 ? base + pix : zeros;
    const p02 = h0 && w2 ? base + pix * 2 : zeros, p03 = h0 && w3 ? base + pix * 3 : zeros;
    const b1 = base + rowB, b2 = base + rowB * 2, b3 = base + rowB * 3;
    const p10 = h1 && w0 ? b1 : zeros, p11 = h1 && w1 ? b1 + pix : zeros;
    const p12 = h1 && w2 ? b1 + pix * 2 : zeros, p13 = h1 && w3 ? b1 + pix * 3 : zeros;
    const p20 = h2 && w0 ? b2 : zeros, p21 = h2 && w1 ? b2 + pix : zeros;
    const p22 = h2 && w2 ? b2 + pix * 2 : zeros, p23 = h2 && w3 ? b2 + pix * 3 : zeros;
    const p30 = h3 && w0 ? b3 : zeros, p31 = h3 && w1 ? b3 + pix : zeros;
    const p32 = h3 && w2 ? b3 + pix * 2 : zeros, p33 = h3 && w3 ? b3 + pix * 3 : zeros;
    const vt = V + <usize>t * pix;
    for (let c = 0; c < C; c += 4) {
      const o: usize = <usize>c << 2;
      const k = C - c; // lanes to load (>= 4: all)
      const q = vt + o;
      if (c < C4) {
        tile4(q, vPlane,
          v128.load(p00 + o), v128.load(p01 + o), v128.load(p02 + o), v128.load(p03 + o),
          v128.load(p10 + o), v128.load(p11 + o), v128.load(p12 + o), v128.load(p13 + o),
          v128.load(p20 + o), v128.load(p21 + o), v128.load(p22 + o), v128.load(p23 + o),
          v128.load(p30 + o), v128.load(p31 + o), v128.load(p32 + o), v128.load(p33 + o));
      } else {
        // Channel tail: full-vector stores are fine (the extra lanes land in the next tile's row,
        // written after this one, or in the plane's PAD spare floats).
        tile4(q, vPlane,
          loadN(p00 + o, k), loadN(p01 + o, k), loadN(p02 + o, k), loadN(p03 + o, k),
          loadN(p10 + o, k), loadN(p11 + o, k), loadN(p12 + o, k), loadN(p13 + o, k),
          loadN(p20 + o, k), loadN(p21 + o, k), loadN(p22 + o, k), loadN(p23 + o, k),
          loadN(p30 + o, k), loadN(p31 + o, k), loadN(p32 + o, k), loadN(p33 + o, k));
      }
    }
    if (++tx == TX) {
      tx = 0;
      if (++ty == TY) { ty = 0; n++; }
    }
  }
}

/** Stores B^T d B (d given row by row) to q + k * plane for k = 0..15. */
// @ts-ignore: decorator
@inline function tile4(
  q: usize, plane: usize,
  d00: v128, d01: v128, d02: v128, d03: v128, d10: v128, d11: v128, d12: v128, d13: v128,
  d20: v128, d21: v128, d22: v128, d23: v128, d30: v128, d31: v128, d32: v128, d33: v128,
): void {
  // Rows of B^T d: u0 = d0 - d2, u1 = d1 + d2, u2 = d2 - d1, u3 = d1 - d3; then each row times B.
  q = rowB(q, plane, f32x4.sub(d00, d20), f32x4.sub(d01, d21), f32x4.sub(d02, d22), f32x4.sub(d03, d23));
  q = rowB(q, plane, f32x4.add(d10, d20), f32x4.add(d11, d21), f32x4.add(d12, d22), f32x4.add(d13, d23));
  q = rowB(q, plane, f32x4.sub(d20, d10), f32x4.sub(d21, d11), f32x4.sub(d22, d12), f32x4.sub(d23, d13));
  rowB(q, plane, f32x4.sub(d10, d30), f32x4.sub(d11, d31), f32x4.sub(d12, d32), f32x4.sub(d13, d33));
}

// @ts-ignore: decorator
@inline function rowB(q: usize, plane: usize, a: v128, b: v128, c: v128, d: v128): usize {
  v128.store(q, f32x4.sub(a, c));
  v128.store(q + plane, f32x4.add(b, c));
  v128.store(q + plane * 2, f32x4.sub(c, b));
  v128.store(q + plane * 3, f32x4.sub(b, d));
  return q + plane * 4;
}

/** M_k[t, :] = V_k[t, :] . U_k for k < planes, rows in 4s (rows past nt computed, never read). */
export function multiply(
  V: usize, vPlane: usize, u: usize, M: usize, mPlane: usize, nt: i32, C: i32, O: i32, Op: i32, planes: i32,
): void {
  const nb = (O + 7) >> 3;
  const rsa: usize = <usize>C << 2;
  const ldm: usize = <usize>Op << 2;
  const panel: usize = <usize>C << 5;
  const uPlane = filterPlaneBytes(C, O);
  for (let k = 0; k < planes; k++) {
    const vk = V + <usize>k * vPlane;
    const mk = M + <usize>k * mPlane;
    let pb = u + <usize>k * uPlane;
    for (let j = 0; j < nb; j++) {
      let pa = vk;
      let pm = mk + (<usize>j << 5);
      for (let t = 0; t < nt; t += 4) {
        micro(pa, rsa, pb, panel, pm, ldm);
        pa += rsa << 2;
        pm += ldm << 2;
      }
      pb += panel;
    }
  }
}

// @ts-ignore: decorator
@inline function micro(pa: usize, rsa: usize, pb: usize, panel: usize, pm: usize, ldm: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const p1 = pa + rsa, p2 = pa + (rsa << 1), p3 = pa + rsa * 3;
  let o: usize = 0;
  const end = pb + panel;
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let s = v128.load32_splat(pa + o);
    c00 = f32x4.add(c00, f32x4.mul(s, b0));
    c01 = f32x4.add(c01, f32x4.mul(s, b1));
    s = v128.load32_splat(p1 + o);
    c10 = f32x4.add(c10, f32x4.mul(s, b0));
    c11 = f32x4.add(c11, f32x4.mul(s, b1));
    s = v128.load32_splat(p2 + o);
    c20 = f32x4.add(c20, f32x4.mul(s, b0));
    c21 = f32x4.add(c21, f32x4.mul(s, b1));
    s = v128.load32_splat(p3 + o);
    c30 = f32x4.add(c30, f32x4.mul(s, b0));
    c31 = f32x4.add(c31, f32x4.mul(s, b1));
    o += 4;
    pb += 32;
  }
  v128.store(pm, c00);
  v128.store(pm, c01, 16);
  pm += ldm;
  v128.store(pm, c10);
  v128.store(pm, c11, 16);
  pm += ldm;
  v128.store(pm, c20);
  v128.store(pm, c21, 16);
  pm += ldm;
  v128.store(pm, c30);
  v128.store(pm, c31, 16);
}

/** y at the valid pixels of tiles t0 .. t0 + nt from M: A^T M A (+ bias, relu), 4 channels at a time. */
function outputTransform(
  M: usize, mPlane: usize, y: usize, bias: usize, t0: i32, nt: i32, TY: i32, TX: i32,
  OH: i32, OW: i32, O: i32, Op: i32, relu: bool,
): void {
  const pix: usize = <usize>O << 2;
  const rowB: usize = <usize>OW * pix;
  let n = t0 / (TY * TX);
  let rem = t0 - n * TY * TX;
  let ty = rem / TX;
  let tx = rem - ty * TX;
  const zero = f32x4.splat(0);
  for (let t = 0; t < nt; t++) {
    const oh = 2 * ty, ow = 2 * tx;
    const q0 = y + <usize>(n * OH + oh) * rowB + <usize>ow * pix;
    const right = ow + 1 < OW, down = oh + 1 < OH;
    const mt = M + <usize>t * (<usize>Op << 2);
    for (let c = 0; c < O; c += 4) {
      const m = mt + (<usize>c << 2);
      // Rows of A^T M: s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 (per column j).
      let a = v128.load(m), b = v128.load(m + mPlane * 4), d = v128.load(m + mPlane * 8), e = v128.load(m + mPlane * 12);
      const s00 = f32x4.add(f32x4.add(a, b), d), s10 = f32x4.sub(f32x4.sub(b, d), e);
      a = v128.load(m + mPlane); b = v128.load(m + mPlane * 5); d = v128.load(m + mPlane * 9); e = v128.load(m + mPlane * 13);
      const s01 = f32x4.add(f32x4.add(a, b), d), s11 = f32x4.sub(f32x4.sub(b, d), e);
      a = v128.load(m + mPlane * 2); b = v128.load(m + mPlane * 6); d = v128.load(m + mPlane * 10); e = v128.load(m + mPlane * 14);
      const s02 = f32x4.add(f32x4.add(a, b), d), s12 = f32x4.sub(f32x4.sub(b, d), e);
      a = v128.load(m + mPlane * 3); b = v128.load(m + mPlane * 7); d = v128.load(m + mPlane * 11); e = v128.load(m + mPlane * 15);
      const s03 = f32x4.add(f32x4.add(a, b), d), s13 = f32x4.sub(f32x4.sub(b, d), e);
      let y00 = f32x4.add(f32x4.add(s00, s01), s02), y01 = f32x4.sub(f32x4.sub(s01, s02), s03);
      let y10 = f32x4.add(f32x4.add(s10, s11), s12), y11 = f32x4.sub(f32x4.sub(s11, s12), s13);
      const k = O - c;
      if (bias != 0) {
        const bv = loadN(bias + (<usize>c << 2), k);
        y00 = f32x4.add(y00, bv); y01 = f32x4.add(y01, bv);
        y10 = f32x4.add(y10, bv); y11 = f32x4.add(y11, bv);
      }
      if (relu) {
        y00 = f32x4.max(y00, zero); y01 = f32x4.max(y01, zero);
        y10 = f32x4.max(y10, zero); y11 = f32x4.max(y11, zero);
      }
      const q = q0 + (<usize>c << 2);
      storeN(q, y00, k);
      if (right) storeN(q + pix, y01, k);
      if (down) {
        storeN(q + rowB, y10, k);
        if (right) storeN(q + rowB + pix, y11, k);
      }
    }
    if (++tx == TX) {
      tx = 0;
      if (++ty == TY) { ty = 0; n++; }
    }
  }
}

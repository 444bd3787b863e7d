/**
 * Filter gradients of regular and depthwise convolutions (NHWC, filter [kh, kw, ci, co]):
 * dW[a,b,ci,co] = sum_{n,oh,ow} xpad[n, oh*s+a, ow*s+b, ci] * dy[n,oh,ow,co].
 *
 * - Stride 1, regular convolution with few input channels (first layers): "wide" im2col + matmul. Take x channel-major and padded,
 *   xpad[ci][n][i][j] with Hp = OH+kh-1 rows and Wp = OW+kw-1 columns, flattened per channel. On
 *   the wide grid of all (n, i, j) positions (garbage rows i >= OH and columns j >= OW included),
 *   tap (a, b) of output (n, i, j) is the flat element at offset a*Wp + b further: row (a, b, c) of
 *   the transposed im2col matrix is ONE contiguous run of channel c's plane. With dy padded by zeros
 *   onto the same wide grid (so the garbage positions contribute nothing), dW = XcolT x dyWide,
 *   [kh*kw*ci, Mw] x [Mw, co], already in [kh, kw, ci, co] order. The matrix is built with one typed
 *   array copy per row (no per-element work), at the cost of Hp*Wp/(OH*OW) more multiply-adds.
 *   The sum over the Mw wide positions is split into chunks whose dy block (the matmul's packed
 *   "weights") stays in cache: XNNPACK streams the whole packed operand once per 4-row tile of the
 *   other one, so a single product with Mw ~ 10^5 is memory-bound.
 * - Otherwise: a convolution whose "image" is x transposed to [ci, H, W, n] (batch = ci, channels
 *   = n) and whose "filter" is dy transposed to [OH, OW, n, co], with dilation = stride and the
 *   forward padding; its output [ci, kh, kw, co] is dW up to a small transpose (XNNPACK's indirect
 *   GEMM does the gathering). For stride 1 the roles are swapped when x is smaller than dy
 *   (XNNPACK packs its "filter" on every call, ~5 ns per float, so the smaller tensor should be it).
 * - Depthwise: the same identity with a depthwise convolution (channels x batch become depthwise
 *   channels), then a sum over the batch.
 */
import * as tf from '@tensorflow/tfjs';
import { type Geometry, type Pad, type Shape4, geometry } from './conv.js';
import { Exec, TI } from './exec.js';

/**
 * Padding [top, bottom] of x along one axis for the filter gradient: the window of taps read by
 * `out` outputs at stride `s` of a size-`k` filter. Returns `keep` < len (rows of x to keep) when
 * the forward pass never read the last input rows.
 */
function filterGradPad(len: number, top: number, k: number, s: number, out: number) {
  // Padded length = len + top + bottom must equal (out-1)*s + k.
  const bottom = k + (out - 1) * s - len - top;
  return bottom >= 0 ? { top, bottom, keep: len } : { top, bottom: 0, keep: len + bottom };
}

interface FilterGradSetup {
  g: Geometry;
  /** x cropped to the rows and columns the forward pass read. */
  xs: TI;
  ph: ReturnType<typeof filterGradPad>;
  pw: ReturnType<typeof filterGradPad>;
}

/** Geometry and padding shared by the regular and depthwise filter gradients. */
function filterGradSetup(
  e: Exec,
  x: TI,
  filterShape: Shape4,
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): FilterGradSetup {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, depthwise, 'channelsLast');
  const g = geometry(info);
  const ph = filterGradPad(g.H, g.top, g.kh, g.sh, g.OH);
  const pw = filterGradPad(g.W, g.left, g.kw, g.sw, g.OW);
  const C = x.shape[3]!;
  const xs = ph.keep < g.H || pw.keep < g.W ? e.slice(x, [0, 0, 0, 0], [g.N, ph.keep, pw.keep, C]) : x;
  return { g, xs, ph, pw };
}

/**
 * Input channels up to which stride-1 filter gradients use the wide im2col (first layers: few rows
 * kh*kw*ci). Above it the convolution forms below are faster (exact multiply-adds; the wide grid
 * costs 1.1-1.3x more of them on small images).
 */
const WIDE_IM2COL_MAX_CI = 4;

/** Floats of dy per chunk of the wide im2col matmul (its packed operand; measured best at 2^17). */
const CHUNK_FLOATS = 1 << 17;

/** Stride-1 filter gradient by wide im2col (see the file comment), returns [kh, kw, ci, co]. */
function wideIm2colFilterGrad(e: Exec, dy: TI, s: FilterGradSetup, ci: number, co: number): TI {
  const { g, xs, ph, pw } = s;
  const Hp = g.OH + g.kh - 1;
  const Wp = g.OW + g.kw - 1;
  if (ph.keep + ph.top + ph.bottom !== Hp || pw.keep + pw.top + pw.bottom !== Wp) {
    throw new Error('tsnas kernels: filter gradient geometry error (wide im2col)');
  }
  const xc = ci === 1
    ? e.reshape(xs, [g.N, ph.keep, pw.keep])
    : e.reshape(e.transpose(xs, [3, 0, 1, 2]), [ci * g.N, ph.keep, pw.keep]);
  // One extra zero plane: the last row's shifted run reads up to (kh-1)*Wp + kw-1 past the end.
  const xpad = e.pad(xc, [[0, 1], [ph.top, ph.bottom], [pw.top, pw.bottom]]);
  const dyWide = e.pad(dy, [[0, 0], [0, Hp - g.OH], [0, Wp - g.OW], [0, 0]]); // [N, Hp, Wp, co]
  const plane = g.N * Hp * Wp;
  const rows = g.kh * g.kw * ci;
  const chunk = Math.max(256, Math.floor(CHUNK_FLOATS / co));
  let acc: TI | null = null;
  for (let m0 = 0; m0 < plane; m0 += chunk) {
    const len = Math.min(chunk, plane - m0);
    const a = e.alloc([rows, len]);
    const b = e.alloc([len, co]);
    const src = e.view(xpad);
    const A = e.view(a);
    let r = 0;
    for (let ta = 0; ta < g.kh; ta++) {
      for (let tb = 0; tb < g.kw; tb++) {
        for (let c = 0; c < ci; c++, r++) {
          const off = c * plane + ta * Wp + tb + m0;
          A.set(src.subarray(off, off + len), r * len);
        }
      }
    }
    e.view(b).set(e.view(dyWide).subarray(m0 * co, (m0 + len) * co));
    const p = e.matmul(a, b); // [rows, co]
    e.free(a);
    e.free(b);
    if (acc === null) acc = p;
    else {
      const sum = e.run('Add', { a: acc, b: p });
      e.free(acc);
      e.free(p);
      acc = sum;
    }
  }
  return e.reshape(acc!, [g.kh, g.kw, ci, co]);
}

/** Filter gradient of a regular convolution, returns [kh, kw, ci, co]. */
export function conv2dBackpropFilter(
  e: Exec,
  x: TI,
  dy: TI,
  filterShape: Shape4,
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TI {
  const s = filterGradSetup(e, x, filterShape, strides, pad, dimRoundingMode, false);
  const { g, xs, ph, pw } = s;
  const ci = filterShape[2];
  const co = filterShape[3];
  const stride1 = g.sh === 1 && g.sw === 1;
  if (stride1 && ci <= WIDE_IM2COL_MAX_CI) return wideIm2colFilterGrad(e, dy, s, ci, co);
  const xSize = g.N * ph.keep * pw.keep * ci;
  if (stride1 && xSize < g.N * g.OH * g.OW * co) {
    // Roles swapped, so that XNNPACK packs the smaller tensor as the "filter": image = dy as
    // [co, OH, OW, N], filter = x as [H, W, N, ci]. out[co, p, q, ci] = dW[kh-1-p, kw-1-q, ci, co]
    // with padding kh-1-top before and H - OH + top after.
    const img = e.transpose(dy, [3, 1, 2, 0]);
    const filt = e.transpose(xs, [1, 2, 0, 3]);
    const pt = g.kh - 1 - g.top;
    const pl = g.kw - 1 - g.left;
    const out = e.run('Conv2D', { x: img, filter: filt }, {
      strides: [1, 1],
      pad: [[0, 0], [pt, ph.keep - g.OH + g.top], [pl, pw.keep - g.OW + g.left], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    }); // [co, kh, kw, ci]
    if (out.shape[1] !== g.kh || out.shape[2] !== g.kw) {
      throw new Error(`tsnas kernels: filter gradient geometry error ${String(out.shape)}`);
    }
    const flipped = g.kh === 1 && g.kw === 1 ? out : e.run('Reverse', { x: out }, { dims: [1, 2] });
    return e.transpose(flipped, [1, 2, 3, 0]);
  }
  // [N,H,W,ci] -> [ci,H,W,N]; dy [N,OH,OW,co] -> [OH,OW,N,co]
  const xT = e.transpose(xs, [3, 1, 2, 0]);
  const dyT = e.transpose(dy, [1, 2, 0, 3]);
  const out = e.run('Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1],
    pad: [[0, 0], [ph.top, ph.bottom], [pw.top, pw.bottom], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [g.sh, g.sw],
  }); // [ci, kh, kw, co]
  if (out.shape[1] !== g.kh || out.shape[2] !== g.kw) {
    throw new Error(`tsnas kernels: filter gradient geometry error ${String(out.shape)}`);
  }
  return e.transpose(out, [1, 2, 0, 3]);
}

/** Filter gradient of a depthwise convolution, returns [kh,kw,C,m]. */
export function depthwiseBackpropFilter(
  e: Exec,
  x: TI,
  dy: TI,
  filterShape: Shape4,
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TI {
  const { g, xs, ph, pw } = filterGradSetup(e, x, filterShape, strides, pad, dimRoundingMode, true);
  const [kh, kw, C, m] = filterShape;
  // Depthwise channel (c, n): image x[n,:,:,c], filter dy[n,:,:,c*m+j]; then sum over n.
  const xT = e.reshape(e.transpose(xs, [1, 2, 3, 0]), [1, ph.keep, pw.keep, C * g.N]);
  const dyT = e.transpose(dy, [1, 2, 3, 0]); // [OH, OW, C*m, N]
  const explicit: tf.backend_util.ExplicitPadding = [[0, 0], [ph.top, ph.bottom], [pw.top, pw.bottom], [0, 0]];
  const perJ: TI[] = [];
  for (let j = 0; j < m; j++) {
    let f: TI;
    if (m === 1) f = e.reshape(dyT, [g.OH, g.OW, C * g.N, 1]);
    else {
      const r = e.reshape(dyT, [g.OH * g.OW, C, m, g.N]);
      const sl = e.slice(r, [0, 0, j, 0], [g.OH * g.OW, C, 1, g.N]);
      f = e.reshape(sl, [g.OH, g.OW, C * g.N, 1]);
    }
    const o = e.run('DepthwiseConv2dNative', { x: xT, filter: f }, {
      strides: [1, 1], pad: explicit, dilations: [g.sh, g.sw],
    }); // [1, kh, kw, C*N]
    const sum = e.run('Sum', { x: e.reshape(o, [kh, kw, C, g.N]) }, { axis: [3], keepDims: false });
    perJ.push(e.reshape(sum, [kh, kw, C, 1]));
  }
  return m === 1 ? perJ[0]! : e.concat(perJ, 3);
}

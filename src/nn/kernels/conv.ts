/**
 * Convolution gradients built on the backend's fast forward convolution (XNNPACK on wasm).
 *
 * - Filter gradient: dW[a,b,ci,co] = sum_{n,oh,ow} xpad[n, oh*s+a, ow*s+b, ci] * dy[n,oh,ow,co].
 *   That is itself a convolution: the "image" is x transposed to [ci, H, W, n] (batch = ci,
 *   channels = n), the "filter" is dy transposed to [OH, OW, n, co], with dilation = stride and the
 *   forward padding. Its output [ci, kh, kw, co] is dW up to a small transpose. This is im2col +
 *   GEMM without materialising the im2col matrix (XNNPACK's indirect GEMM does the gathering).
 *   For stride 1 the roles are swapped when x is smaller than dy (XNNPACK re-packs its "filter"
 *   on every call, so the smaller tensor should be the filter), and for few input channels an
 *   explicit im2col (x^T windows) times dy is cheaper still.
 * - Input gradient: a stride-1 convolution of dy with the spatially flipped filter whose in/out
 *   channels are swapped, padding passed to the convolution (explicit padding), not materialised.
 *   For stride s > 1, one such convolution per output phase with the strided sub-filter
 *   ("sub-pixel" decomposition), instead of convolving a zero-dilated dy.
 * - Depthwise versions use the same identities with a depthwise convolution (channels x batch
 *   become depthwise channels for the filter gradient, then a sum over the batch).
 */
import * as tf from '@tensorflow/tfjs';
import { Exec, TI } from './exec.js';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

function checkNHWC(dataFormat: unknown, op: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`tsnas kernels: ${op} supports NHWC only, got dataFormat=${String(dataFormat)}`);
  }
}

function checkNoDilation(dilations: unknown, op: string): void {
  if (dilations === undefined || dilations === null) return;
  const d = typeof dilations === 'number' ? [dilations, dilations] : (dilations as number[]);
  if (d.some((v) => v !== 1)) {
    throw new Error(
      `tsnas kernels: ${op} gradient with dilations ${String(d)} is not implemented; ` +
        'use spaceToBatch -> conv -> batchToSpace',
    );
  }
}

interface Geometry {
  N: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
}

function geometry(info: tf.backend_util.Conv2DInfo): Geometry {
  return {
    N: info.batchSize,
    H: info.inHeight,
    W: info.inWidth,
    OH: info.outHeight,
    OW: info.outWidth,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/**
 * Padding [top, bottom] of x for the filter-gradient convolution: its "filter" is dy (`out` taps
 * at dilation `s` = the forward stride) and its output length must equal the filter size `k`.
 * Returns `keep` < len (rows of x to keep) when the forward pass never read the last input rows.
 */
function filterGradPad(len: number, top: number, k: number, s: number, out: number) {
  // Output length = len + top + bottom - ((out-1)*s + 1) + 1 must equal k.
  const bottom = k + (out - 1) * s - len - top;
  return bottom >= 0 ? { top, bottom, keep: len } : { top, bottom: 0, keep: len + bottom };
}

/**
 * Input channels up to which the filter gradient uses explicit im2col + one matmul instead of the
 * convolution form. For few input channels (first layers) the convolution form's "filter" is dy,
 * and XNNPACK re-packs that activation-sized filter on every call; im2col of x with ci*kh*kw rows is
 * cheap, and the matmul XcolT[ci*kh*kw, M] x dy[M, co] packs dy once without the extra transpose.
 */
const IM2COL_MAX_CI = 4;

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
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const g = geometry(info);
  const ci = filterShape[2];
  const co = filterShape[3];
  const ph = filterGradPad(g.H, g.top, g.kh, g.sh, g.OH);
  const pw = filterGradPad(g.W, g.left, g.kw, g.sw, g.OW);
  let xs = x;
  if (ph.keep < g.H || pw.keep < g.W) xs = e.slice(x, [0, 0, 0, 0], [g.N, ph.keep, pw.keep, ci]);
  if (ci <= IM2COL_MAX_CI && g.sh === 1 && g.sw === 1) {
    // im2col, transposed: rows (a, b, c) of XcolT [kh*kw*ci, N*OH*OW] are shifted windows of the
    // padded channel-major x [ci*N, Hp, Wp] (3-D slices with runs of OW floats).
    const xc = ci === 1 ? e.reshape(xs, [g.N, ph.keep, pw.keep]) : e.reshape(
      e.transpose(xs, [3, 0, 1, 2]), [ci * g.N, ph.keep, pw.keep]);
    const xpad = e.pad(xc, [[0, 0], [ph.top, ph.bottom], [pw.top, pw.bottom]]);
    const M = g.N * g.OH * g.OW;
    const rows: TI[] = [];
    for (let a = 0; a < g.kh; a++) {
      for (let b = 0; b < g.kw; b++) {
        rows.push(e.reshape(e.slice(xpad, [0, a, b], [ci * g.N, g.OH, g.OW]), [ci, M]));
      }
    }
    const xcolT = e.concat(rows, 0); // [kh*kw*ci, M]
    const dW = e.matmul(xcolT, e.reshape(dy, [M, co]));
    return e.reshape(dW, [g.kh, g.kw, ci, co]);
  }
  const xSize = g.N * ph.keep * pw.keep * ci;
  if (g.sh === 1 && g.sw === 1 && xSize < g.N * g.OH * g.OW * co) {
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

/**
 * Zero-dilates dy by the stride (stride 1: unchanged) and returns it with the explicit padding
 * that turns "stride-1 convolution with the flipped filter" into the input gradient.
 */
function dilateForInputGrad(e: Exec, dy: TI, g: Geometry) {
  let d = dy;
  const C = dy.shape[3]!;
  let LH = g.OH;
  let LW = g.OW;
  if (g.sh > 1 || g.sw > 1) {
    const r = e.reshape(dy, [g.N, g.OH, 1, g.OW, 1, C]);
    const p = e.pad(r, [[0, 0], [0, 0], [0, g.sh - 1], [0, 0], [0, g.sw - 1], [0, 0]]);
    LH = g.OH * g.sh;
    LW = g.OW * g.sw;
    d = e.reshape(p, [g.N, LH, LW, C]);
  }
  // Row i of dx reads dilated rows i + top - (k-1) .. i + top: pad by k-1-top before.
  const pt = g.kh - 1 - g.top;
  const pl = g.kw - 1 - g.left;
  let pb = g.H + g.kh - 1 - pt - LH;
  let pr = g.W + g.kw - 1 - pl - LW;
  if (pb < 0 || pr < 0) {
    // Trailing zero rows/columns (from the dilation) that no output reads: crop them.
    LH += Math.min(0, pb);
    LW += Math.min(0, pr);
    d = e.slice(d, [0, 0, 0, 0], [g.N, LH, LW, C]);
    pb = Math.max(0, pb);
    pr = Math.max(0, pr);
  }
  if (pt < 0 || pl < 0) throw new Error('tsnas kernels: padding larger than the filter is not supported');
  return { d, pad: [[0, 0], [pt, pb], [pl, pr], [0, 0]] as tf.backend_util.ExplicitPadding };
}

/** Input gradient of a regular convolution, returns [N, H, W, ci]. */
export function conv2dBackpropInput(
  e: Exec,
  dy: TI,
  filter: TI,
  inputShape: Shape4,
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TI {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const g = geometry(info);
  if (g.sh === g.sw && g.sh > 1) return subPixelInputGrad(e, dy, filter, g, inputShape[3]);
  const { d, pad: p } = dilateForInputGrad(e, dy, g);
  // Flip spatially and swap in/out channels: [kh,kw,ci,co] -> [kh,kw,co,ci].
  const flipped = g.kh === 1 && g.kw === 1 ? filter : e.run('Reverse', { x: filter }, { dims: [0, 1] });
  const wT = e.transpose(flipped, [0, 1, 3, 2]);
  return e.run('Conv2D', { x: d, filter: wT }, {
    strides: [1, 1], pad: p, dataFormat: 'NHWC', dilations: [1, 1],
  });
}

/**
 * Input gradient of a stride-s convolution without the s*s zero-dilated dy (which wastes
 * (s*s-1)/(s*s) of the multiply-adds). In padded coordinates I = i + top, row I receives taps
 * k = phase(I) + j*s only: for each phase pair (ph, pw) the rows I = i'*s + ph form a stride-1
 * correlation of dy with the flipped sub-filter w[ph + j*s, pw + l*s]. The s*s phase results are
 * then interleaved (two 3-D transposes) and the padding is cropped.
 */
function subPixelInputGrad(e: Exec, dy: TI, filter: TI, g: Geometry, ci: number, depthwise = false): TI {
  const s = g.sh;
  const co = dy.shape[3]!;
  // Depthwise: filter [kh,kw,C,m], dy [.., C*m]; the per-phase result has C*m channels.
  const m = depthwise ? filter.shape[3]! : 1;
  const outC = depthwise ? ci * m : ci;
  const Hq = Math.ceil((g.top + g.H) / s);
  const Wq = Math.ceil((g.left + g.W) / s);
  const slots: TI[] = [];
  const zeros = () => e.constant(new Float32Array(g.N * Hq * Wq * outC), [g.N, Hq, Wq, outC]);
  for (let pw = 0; pw < s; pw++) {
    for (let ph = 0; ph < s; ph++) {
      const Jh = Math.max(0, Math.ceil((g.kh - ph) / s));
      const Jw = Math.max(0, Math.ceil((g.kw - pw) / s));
      if (Jh === 0 || Jw === 0) {
        slots.push(zeros());
        continue;
      }
      let sub = filter;
      if (s > 1) {
        sub = e.run('StridedSlice', { x: filter }, {
          begin: [ph, pw, 0, 0], end: [g.kh, g.kw, filter.shape[2]!, filter.shape[3]!], strides: [s, s, 1, 1],
          beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
        });
      }
      const flipped = Jh === 1 && Jw === 1 ? sub : e.run('Reverse', { x: sub }, { dims: [0, 1] });
      const pb = Math.max(0, Hq - g.OH);
      const pr = Math.max(0, Wq - g.OW);
      const pad: tf.backend_util.ExplicitPadding = [[0, 0], [Jh - 1, pb], [Jw - 1, pr], [0, 0]];
      let out = depthwise
        ? e.run('DepthwiseConv2dNative', { x: dy, filter: e.reshape(flipped, [Jh, Jw, co, 1]) }, {
          strides: [1, 1], pad, dilations: [1, 1],
        })
        : e.run('Conv2D', { x: dy, filter: e.transpose(flipped, [0, 1, 3, 2]) }, {
          strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1],
        }); // [N, OH + pb, OW + pr, outC]
      if (out.shape[1] !== Hq || out.shape[2] !== Wq) out = e.slice(out, [0, 0, 0, 0], [g.N, Hq, Wq, outC]);
      slots.push(out);
    }
  }
  // slots are ordered (pw outer, ph inner): interleave to [N, Hq*s, Wq*s, ci].
  const q = e.reshape(e.concat(slots, 0), [s, s * g.N * Hq * Wq, outC]);
  const u = e.reshape(e.transpose(q, [1, 0, 2]), [s, g.N * Hq, Wq * s * outC]);
  const full = e.reshape(e.transpose(u, [1, 0, 2]), [g.N, Hq * s, Wq * s * outC]);
  const dx = e.slice(full, [0, g.top, g.left * outC], [g.N, g.H, g.W * outC]);
  if (m === 1) return e.reshape(dx, [g.N, g.H, g.W, ci]);
  return e.run('Sum', { x: e.reshape(dx, [g.N, g.H, g.W, ci, m]) }, { axis: [4], keepDims: false });
}

/** Input gradient of a depthwise convolution (filter [kh,kw,C,m]), returns [N,H,W,C]. */
export function depthwiseBackpropInput(
  e: Exec,
  dy: TI,
  filter: TI,
  inputShape: Shape4,
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TI {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, true, 'channelsLast');
  const g = geometry(info);
  const [kh, kw, C, m] = filter.shape as Shape4;
  if (g.sh === g.sw && g.sh > 1) return subPixelInputGrad(e, dy, filter, g, C, true);
  const { d, pad: p } = dilateForInputGrad(e, dy, g);
  const flipped = kh === 1 && kw === 1 ? filter : e.run('Reverse', { x: filter }, { dims: [0, 1] });
  const w = e.reshape(flipped, [kh, kw, C * m, 1]);
  const dx = e.run('DepthwiseConv2dNative', { x: d, filter: w }, {
    strides: [1, 1], pad: p, dilations: [1, 1],
  }); // [N,H,W,C*m]
  if (m === 1) return dx;
  const r = e.reshape(dx, [g.N, g.H, g.W, C, m]);
  return e.run('Sum', { x: r }, { axis: [4], keepDims: false });
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
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, true, 'channelsLast');
  const g = geometry(info);
  const [kh, kw, C, m] = filterShape;
  const ph = filterGradPad(g.H, g.top, g.kh, g.sh, g.OH);
  const pw = filterGradPad(g.W, g.left, g.kw, g.sw, g.OW);
  let xs = x;
  if (ph.keep < g.H || pw.keep < g.W) xs = e.slice(x, [0, 0, 0, 0], [g.N, ph.keep, pw.keep, C]);
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
    const s = e.run('Sum', { x: e.reshape(o, [kh, kw, C, g.N]) }, { axis: [3], keepDims: false });
    perJ.push(e.reshape(s, [kh, kw, C, 1]));
  }
  return m === 1 ? perJ[0]! : e.concat(perJ, 3);
}

export { checkNHWC, checkNoDilation };

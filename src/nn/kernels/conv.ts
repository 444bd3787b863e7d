/**
 * Convolution input gradients built on the backend's fast forward convolution (XNNPACK on wasm);
 * the filter gradients are in filter-grad.ts.
 *
 * - Input gradient: a stride-1 convolution of dy with the spatially flipped filter whose in/out
 *   channels are swapped, padding passed to the convolution (explicit padding), not materialised;
 *   3x3 at stride 1 by the Winograd kernel of conv-forward.ts, which reads the filter in that order.
 *   For stride s > 1, one such convolution per output phase with the strided sub-filter
 *   ("sub-pixel" decomposition), instead of convolving a zero-dilated dy.
 * - Depthwise versions use the same identities with a depthwise convolution.
 */
import * as tf from '@tensorflow/tfjs';
import { Exec, TI } from './exec.js';
import { winogradApplies, winogradConv2d } from './conv-forward.js';

export type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
export type Shape4 = [number, number, number, number];

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

export interface Geometry {
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

export function geometry(info: tf.backend_util.Conv2DInfo): Geometry {
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
  if (g.sh === 1 && g.sw === 1 && winogradApplies([g.kh, g.kw, dy.shape[3]!, inputShape[3]], 1, 1)) {
    return winogradConv2d(e, d, filter, p[1][0], p[2][0], g.H, g.W, { flipSwap: true });
  }
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

export { checkNHWC, checkNoDilation };

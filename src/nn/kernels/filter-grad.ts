/**
 * Filter gradients of regular and depthwise convolutions (NHWC, filter [kh, kw, ci, co]):
 * dW[a,b,ci,co] = sum_{n,oh,ow} xpad[n, oh*s+a, ow*s+b, ci] * dy[n,oh,ow,co].
 *
 * - Regular: the SIMD kernel asm/conv.ts, in place on the wasm heap: x is copied once into a
 *   zero-padded scratch tensor (skipped when nothing is padded), then per chunk of output rows every
 *   4 x 8 block of dW accumulates outer products of broadcast x values and dy vectors in registers.
 *   No packing, no transposes: 40-55 GFLOP/s on CNN layer shapes, and first layers (1 or 3 input
 *   channels) stream the pixels once.
 * - Depthwise: a depthwise convolution whose channels are (channel, batch) pairs (x transposed to
 *   [H, W, C*N], dy to [OH, OW, C*m, N] as the "filter", dilation = stride), then a sum over the batch.
 */
import * as tf from '@tensorflow/tfjs';
import { type Geometry, type Pad, type Shape4, geometry } from './conv.js';
import { Exec, TI } from './exec.js';
import { heapOffset, simdKernels } from './simd.js';

/** asm/conv.ts; pointers are byte offsets into the wasm heap. */
interface ConvKernels {
  convPadInput(
    x: number, xp: number, N: number, H: number, W: number, C: number,
    Hp: number, Wp: number, top: number, left: number,
  ): void;
  convFilterGrad(
    xp: number, dy: number, dw: number, N: number, OH: number, OW: number, Hp: number, Wp: number,
    ci: number, co: number, kh: number, kw: number, sh: number, sw: number, chunkRows: number,
  ): void;
}

/** Bytes of dy per chunk of output rows that every block of dW streams over (kept in L1). */
const CHUNK_BYTES = 16384;

/** Filter gradient of a regular convolution (asm/conv.ts), returns [kh, kw, ci, co]. */
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
  const { N, H, W, OH, OW, kh, kw, sh, sw, top, left } = geometry(info);
  const [, , ci, co] = filterShape;
  const dw = e.alloc(filterShape);
  if (N * OH * OW === 0) {
    e.view(dw).fill(0);
    return dw;
  }
  // Padded x: rows (OH-1)*sh + kh, columns (OW-1)*sw + kw; x itself when nothing is padded.
  const Hp = (OH - 1) * sh + kh;
  const Wp = (OW - 1) * sw + kw;
  const k = simdKernels<ConvKernels>(e.backend);
  let xp = x;
  if (top !== 0 || left !== 0 || Hp > H || Wp !== W) {
    xp = e.alloc([N * Hp * Wp * ci]);
    k.convPadInput(heapOffset(e.backend, x), heapOffset(e.backend, xp), N, H, W, ci, Hp, Wp, top, left);
  }
  const chunkRows = Math.max(1, Math.floor(CHUNK_BYTES / (OW * co * 4)));
  k.convFilterGrad(heapOffset(e.backend, xp), heapOffset(e.backend, dy), heapOffset(e.backend, dw),
    N, OH, OW, Hp, Wp, ci, co, kh, kw, sh, sw, chunkRows);
  return dw;
}

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

/**
 * Filter gradients of regular and depthwise convolutions (NHWC, filter [kh, kw, ci, co]):
 * dW[a,b,ci,co] = sum_{n,oh,ow} xpad[n, oh*s+a, ow*s+b, ci] * dy[n,oh,ow,co]
 * (depthwise, filter [kh, kw, C, m]: dW[a,b,c,j] = sum xpad[.., c] * dy[.., c*m+j]).
 *
 * Both run the SIMD kernel asm/conv.ts in place on the wasm heap: x is copied once into a
 * zero-padded scratch tensor (skipped when nothing is padded), then per chunk of output rows every
 * 4 x 8 block of dW accumulates in registers, over the output pixels, the outer products of
 * broadcast x values and dy vectors (regular) or the elementwise products of x and dy channel
 * vectors (depthwise, 4 taps at a time). No packing, no transposes: 40-55 GFLOP/s on CNN layer
 * shapes, and first layers (1 or 3 input channels) stream the pixels once. A depthwise channel
 * multiplier m > 1 repeats each channel of x m times in the padded copy, which makes it a
 * multiplier-1 gradient over C*m channels whose [kh, kw, C*m] result is [kh, kw, C, m].
 */
import * as tf from '@tensorflow/tfjs';
import { type Pad, type Shape4, geometry } from './conv.js';
import { Exec, TI } from './exec.js';
import { heapOffset, simdKernels } from './simd.js';

type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** asm/conv.ts; pointers are byte offsets into the wasm heap. */
interface ConvKernels {
  convPadInput(
    x: number, xp: number, N: number, H: number, W: number, C: number,
    Hp: number, Wp: number, top: number, left: number, rep: number,
  ): void;
  convFilterGrad(
    xp: number, dy: number, dw: number, N: number, OH: number, OW: number, Hp: number, Wp: number,
    ci: number, co: number, kh: number, kw: number, sh: number, sw: number, chunkRows: number,
  ): void;
  depthwiseFilterGrad(
    xp: number, dy: number, dw: number, N: number, OH: number, OW: number, Hp: number, Wp: number,
    C: number, kh: number, kw: number, sh: number, sw: number, chunkRows: number,
  ): void;
}

/** Bytes of dy per chunk of output rows that every block of dW streams over (kept in L1). */
const CHUNK_BYTES = 16384;

function filterGrad(
  e: Exec, x: TI, dy: TI, filterShape: Shape4, strides: number | [number, number], pad: Pad,
  dimRoundingMode: Rounding, depthwise: boolean,
): TI {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, depthwise, 'channelsLast');
  const { N, H, W, OH, OW, kh, kw, sh, sw, top, left } = geometry(info);
  const C = x.shape[3]!;
  const rep = depthwise ? filterShape[3] : 1;
  const co = dy.shape[3]!;
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
  if (top !== 0 || left !== 0 || Hp > H || Wp !== W || rep !== 1) {
    xp = e.alloc([N * Hp * Wp * C * rep]);
    k.convPadInput(heapOffset(e.backend, x), heapOffset(e.backend, xp), N, H, W, C, Hp, Wp, top, left, rep);
  }
  const chunkRows = Math.max(1, Math.floor(CHUNK_BYTES / (OW * co * 4)));
  const [pxp, pdy, pdw] = [xp, dy, dw].map((t) => heapOffset(e.backend, t)) as [number, number, number];
  if (depthwise) k.depthwiseFilterGrad(pxp, pdy, pdw, N, OH, OW, Hp, Wp, co, kh, kw, sh, sw, chunkRows);
  else k.convFilterGrad(pxp, pdy, pdw, N, OH, OW, Hp, Wp, C, co, kh, kw, sh, sw, chunkRows);
  return dw;
}

/** Filter gradient of a regular convolution, returns [kh, kw, ci, co]. */
export function conv2dBackpropFilter(
  e: Exec, x: TI, dy: TI, filterShape: Shape4, strides: number | [number, number], pad: Pad,
  dimRoundingMode?: Rounding,
): TI {
  return filterGrad(e, x, dy, filterShape, strides, pad, dimRoundingMode, false);
}

/** Filter gradient of a depthwise convolution, returns [kh, kw, C, m]. */
export function depthwiseBackpropFilter(
  e: Exec, x: TI, dy: TI, filterShape: Shape4, strides: number | [number, number], pad: Pad,
  dimRoundingMode?: Rounding,
): TI {
  return filterGrad(e, x, dy, filterShape, strides, pad, dimRoundingMode, true);
}

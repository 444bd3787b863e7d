/**
 * Filter gradients of regular and depthwise convolutions (NHWC, filter [kh, kw, ci, co]):
 * dW[a,b,ci,co] = sum_{n,oh,ow} xpad[n, oh*s+a, ow*s+b, ci] * dy[n,oh,ow,co]
 * (depthwise, filter [kh, kw, C, m]: dW[a,b,c,j] = sum xpad[.., c] * dy[.., c*m+j]).
 *
 * Both run SIMD kernels in place on the wasm heap (asm/conv.ts): x is copied once into a
 * zero-padded scratch tensor (skipped when nothing is padded), then per chunk of output rows every
 * 4 x 8 block of dW accumulates in registers, over the output pixels, the outer products of
 * broadcast x values and dy vectors (regular) or the elementwise products of x and dy channel
 * vectors (depthwise, 4 taps at a time). No packing, no transposes: 40-55 GFLOP/s on CNN layer
 * shapes, and first layers (1 or 3 input channels) stream the pixels once. A depthwise channel
 * multiplier m > 1 repeats each channel of x m times in the padded copy, which makes it a
 * multiplier-1 gradient over C*m channels whose [kh, kw, C*m] result is [kh, kw, C, m].
 * 3x3 stride-1 regular convolutions with channel counts multiple of 4 use Winograd instead
 * (asm/filter-winograd.ts): F(3x3, 2x2), 16 multiplies per 2x2 tile of dy and channel pair instead
 * of 36, or F(3x3, 4x4), 36 instead of 144; e.g. 128x14x14x32 -> 3x3x32x64 in 8.4 ms (F4, 110
 * effective GFLOP/s) instead of 17.4 ms direct, 128x16x16x32 -> 64 in 8.5 ms instead of 22.7.
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
  convFilterGradWinograd(
    xp: number, dy: number, dw: number, scratch: number, N: number, OH: number, OW: number,
    Hp: number, Wp: number, ci: number, co: number, P: number, m: number,
  ): void;
  winogradFilterGradScratchFloats(ci: number, co: number, P: number, m: number): number;
  depthwiseFilterGrad(
    xp: number, dy: number, dw: number, N: number, OH: number, OW: number, Hp: number, Wp: number,
    C: number, kh: number, kw: number, sh: number, sw: number, chunkRows: number,
  ): void;
}

/** Bytes of dy per chunk of output rows that every block of dW streams over (kept in L1). */
const CHUNK_BYTES = 16384;

/**
 * Tiles per block of the Winograd filter gradients (their transformed tiles stay in L2): 2x2
 * tiles, 32-128 measure alike; 4x4 tiles (36 planes), 24-48.
 */
const WINOGRAD_TILES = 64;
const WINOGRAD4_TILES = 32;

/**
 * Output tile of the Winograd filter gradient. F(3x3, 4x4) makes 36 products per 4x4 tile (2.25
 * per output) against F(3x3, 2x2)'s 16 per 2x2 tile (4), but pads the output to multiples of 4.
 * Measured (128 images, 32 or 64 -> 64 channels, F2 vs F4): 14x14 9.6 vs 8.6 ms and 10x10 4.8 vs
 * 4.6 (4x4 tiles cover 1.31x / 1.44x the outputs 2x2 tiles cover), 6x6 3.3 vs 4.1 and 5x5 3.1 vs
 * 3.9 (1.78x), 2x2 0.35 vs 0.93 (4x).
 */
function winogradTile(OH: number, OW: number): 2 | 4 {
  const cover = (m: number) => Math.ceil(OH / m) * m * Math.ceil(OW / m) * m;
  return cover(4) <= 1.5 * cover(2) ? 4 : 2;
}

/**
 * ci * co from which 3x3 stride-1 filter gradients use Winograd: its tile transforms cost about as
 * much as the multiplies it saves at 4 -> 8 channels; 1.3-2.2x faster from 8 -> 8 up.
 */
const WINOGRAD_MIN_CHANNEL_PAIRS = 64;

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
  const k = simdKernels<ConvKernels>(e.backend);
  const winograd = !depthwise && kh === 3 && kw === 3 && sh === 1 && sw === 1;
  if (winograd && C % 4 === 0 && co % 4 === 0 && C * co >= WINOGRAD_MIN_CHANNEL_PAIRS) {
    // Winograd F(3x3, m x m) over m x m tiles of dy: x padded to whole (m+2) x (m+2) tiles.
    const m = winogradTile(OH, OW);
    const P = m === 4 ? WINOGRAD4_TILES : WINOGRAD_TILES;
    const Hp = m * Math.ceil(OH / m) + 2;
    const Wp = m * Math.ceil(OW / m) + 2;
    const xp = e.alloc([N * Hp * Wp * C]);
    k.convPadInput(heapOffset(e.backend, x), heapOffset(e.backend, xp), N, H, W, C, Hp, Wp, top, left, 1);
    const scratch = e.alloc([k.winogradFilterGradScratchFloats(C, co, P, m)]);
    k.convFilterGradWinograd(heapOffset(e.backend, xp), heapOffset(e.backend, dy), heapOffset(e.backend, dw),
      heapOffset(e.backend, scratch), N, OH, OW, Hp, Wp, C, co, P, m);
    return dw;
  }
  // Padded x: rows (OH-1)*sh + kh, columns (OW-1)*sw + kw; x itself when nothing is padded.
  const Hp = (OH - 1) * sh + kh;
  const Wp = (OW - 1) * sw + kw;
  // The kernels step from image to image by rows x Wp pixels: Hp for the padded copy, H for x itself
  // (whose rows past Hp the forward pass never read).
  let xp = x;
  let rows = H;
  if (top !== 0 || left !== 0 || Hp > H || Wp !== W || rep !== 1) {
    xp = e.alloc([N * Hp * Wp * C * rep]);
    k.convPadInput(heapOffset(e.backend, x), heapOffset(e.backend, xp), N, H, W, C, Hp, Wp, top, left, rep);
    rows = Hp;
  }
  const chunkRows = Math.max(1, Math.floor(CHUNK_BYTES / (OW * co * 4)));
  const [pxp, pdy, pdw] = [xp, dy, dw].map((t) => heapOffset(e.backend, t)) as [number, number, number];
  if (depthwise) k.depthwiseFilterGrad(pxp, pdy, pdw, N, OH, OW, rows, Wp, co, kh, kw, sh, sw, chunkRows);
  else k.convFilterGrad(pxp, pdy, pdw, N, OH, OW, rows, Wp, C, co, kh, kw, sh, sw, chunkRows);
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

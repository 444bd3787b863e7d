/**
 * 3x3 stride-1 convolutions by Winograd F(4x4, 3x3) or F(2x2, 3x3) (asm/winograd4.ts,
 * asm/winograd.ts), in place on the wasm heap: the forward Conv2D / FusedConv2D (replacing
 * XNNPACK's, which repacks every new filter tensor) and, through conv.ts, the stride-1 input
 * gradient (the same kernel on dy with the flipped, channel-swapped filter, read in that order by
 * the filter transform: no Reverse, no Transpose). First layers (1-3 input channels) take a direct
 * SIMD convolution (asm/conv3x3.ts). Other kernel sizes, strides, dilations and layouts keep the
 * stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { Pad, Shape4 } from './conv.js';
import { Exec, TI } from './exec.js';
import { heapOffset, simdKernels } from './simd.js';

/** asm/winograd.ts; pointers are byte offsets into the wasm heap. */
interface WinogradKernels {
  winogradScratchFloats(C: number, O: number, TB: number): number;
  winogradFilterFloats(C: number, O: number): number;
  winogradFilter(w: number, u: number, C: number, O: number, flipSwap: boolean): void;
  winogradConv(
    x: number, u: number, y: number, bias: number, scratch: number,
    N: number, H: number, W: number, C: number, OH: number, OW: number, O: number,
    top: number, left: number, relu: boolean, TB: number,
  ): void;
  winograd4ScratchFloats: WinogradKernels['winogradScratchFloats'];
  winograd4FilterFloats: WinogradKernels['winogradFilterFloats'];
  winograd4Filter: WinogradKernels['winogradFilter'];
  winograd4Conv: WinogradKernels['winogradConv'];
  convPadInput(
    x: number, xp: number, N: number, H: number, W: number, C: number, Hp: number, Wp: number, top: number, left: number, rep: number,
  ): void;
  conv3x3Direct(
    xp: number, g: number, y: number, bias: number, N: number, C: number, OH: number, OW: number, O: number, relu: boolean,
  ): void;
}

/** Tiles per block: the block's transformed input and products stay in L2, one V_k in L1. */
const TILE_BLOCK = 32;

/** Below this many input channels the transforms dominate (first layers): direct3x3 instead. */
const MIN_CHANNELS = 4;

export interface WinogradOptions {
  /** filter is [3, 3, O, C] and is used flipped with its channels swapped (input gradient). */
  flipSwap?: boolean;
  bias?: TI;
  relu?: boolean;
  /** Output tile: F(2x2,3x3) or F(4x4,3x3); default by size (tileFor). */
  tile?: 2 | 4;
}

/**
 * F(4x4,3x3) (36 products per 4x4 tile) unless its tiles past the bottom/right edge waste the gain
 * over F(2x2,3x3) (16 per 2x2 tile): small outputs such as 5x5 or 6x6 cost the same number of
 * products both ways, and F(4x4)'s transforms are dearer.
 */
export function tileFor(OH: number, OW: number): 2 | 4 {
  const products = (m: number) => Math.ceil(OH / m) * Math.ceil(OW / m) * (m + 2) ** 2;
  return products(4) < 0.85 * products(2) ? 4 : 2;
}

/**
 * y[N, OH, OW, O] = the stride-1 3x3 correlation of x[N, H, W, C], zero-padded by `top` rows and
 * `left` columns (and as many after as OH, OW need), with filter [3, 3, C, O].
 */
export function winogradConv2d(
  e: Exec, x: TI, filter: TI, top: number, left: number, OH: number, OW: number, opts: WinogradOptions = {},
): TI {
  const [N, H, W, C] = x.shape as Shape4;
  const O = opts.flipSwap ? filter.shape[2]! : filter.shape[3]!;
  const k = simdKernels<WinogradKernels>(e.backend);
  const y = e.alloc([N, OH, OW, O]);
  if (N * OH * OW * O === 0) return y;
  const f4 = (opts.tile ?? tileFor(OH, OW)) === 4;
  const u = e.alloc([(f4 ? k.winograd4FilterFloats : k.winogradFilterFloats)(C, O)]);
  const scratch = e.alloc([(f4 ? k.winograd4ScratchFloats : k.winogradScratchFloats)(C, O, TILE_BLOCK)]);
  const at = (t: TI) => heapOffset(e.backend, t);
  (f4 ? k.winograd4Filter : k.winogradFilter)(at(filter), at(u), C, O, opts.flipSwap === true);
  (f4 ? k.winograd4Conv : k.winogradConv)(at(x), at(u), at(y), opts.bias ? at(opts.bias) : 0, at(scratch),
    N, H, W, C, OH, OW, O, top, left, opts.relu === true, TILE_BLOCK);
  e.free(scratch);
  e.free(u);
  return y;
}

function is3x3Stride1(filterShape: readonly number[], strides: number | [number, number], dilations: unknown): boolean {
  const s = typeof strides === 'number' ? [strides, strides] : strides;
  const d = dilations === undefined || dilations === null ? [1, 1]
    : typeof dilations === 'number' ? [dilations, dilations] : (dilations as number[]);
  return filterShape[0] === 3 && filterShape[1] === 3 && s[0] === 1 && s[1] === 1 && d[0] === 1 && d[1] === 1;
}

/** Whether the Winograd kernel computes a convolution of this filter, stride and dilation. */
export function winogradApplies(
  filterShape: readonly number[], strides: number | [number, number], dilations: unknown,
): boolean {
  return is3x3Stride1(filterShape, strides, dilations) && filterShape[2]! >= MIN_CHANNELS;
}

/**
 * Direct 3x3 stride-1 convolution (asm/conv3x3.ts) for 1-3 input channels (first layers), on a
 * zero-padded copy of x; needs >= 8 output channels and an output >= 4 pixels wide.
 */
export function direct3x3(
  e: Exec, x: TI, filter: TI, top: number, left: number, OH: number, OW: number, opts: WinogradOptions = {},
): TI {
  if (opts.flipSwap) throw new Error('tsnas kernels: direct3x3 reads the filter as [3, 3, C, O] only');
  const [N, H, W, C] = x.shape as Shape4;
  const O = filter.shape[3]!;
  const k = simdKernels<WinogradKernels>(e.backend);
  const y = e.alloc([N, OH, OW, O]);
  if (N * OH * OW === 0) return y;
  const xp = e.alloc([N * (OH + 2) * (OW + 2) * C]);
  const at = (t: TI) => heapOffset(e.backend, t);
  k.convPadInput(at(x), at(xp), N, H, W, C, OH + 2, OW + 2, top, left, 1);
  k.conv3x3Direct(at(xp), at(filter), at(y), opts.bias ? at(opts.bias) : 0, N, C, OH, OW, O, opts.relu === true);
  e.free(xp);
  return y;
}

interface Conv2DAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The SIMD kernel for a forward convolution (Winograd or direct), or null for the stock one. */
function forwardKernel(x: TI, filter: TI, a: Conv2DAttrs): ((e: Exec, opts?: WinogradOptions) => TI) | null {
  const nhwc = a.dataFormat === undefined || a.dataFormat === 'NHWC' || a.dataFormat === 'channelsLast';
  if (!nhwc || x.dtype !== 'float32' || filter.dtype !== 'float32' || !is3x3Stride1(filter.shape, a.strides, a.dilations)) {
    return null;
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4, filter.shape as Shape4, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const C = filter.shape[2]!;
  const f = C >= MIN_CHANNELS ? winogradConv2d : filter.shape[3]! >= 8 && info.outWidth >= 4 ? direct3x3 : null;
  return f && ((e, opts) => f(e, x, filter, info.padInfo.top, info.padInfo.left, info.outHeight, info.outWidth, opts));
}

/** The Conv2D kernel: the SIMD kernels for 3x3 stride 1 (NHWC, float32), the stock kernel otherwise. */
export function conv2d(e: Exec, x: TI, filter: TI, a: Conv2DAttrs): TI {
  const f = forwardKernel(x, filter, a);
  return f ? f(e) : e.run('Conv2D', { x, filter }, a as unknown as Record<string, unknown>);
}

/**
 * The FusedConv2D kernel (layers' conv with bias and activation when no gradient is recorded, or with
 * a linear activation in training): the SIMD kernels with the per-channel bias and relu fused into
 * their output stores; other activations, PReLU weights or a bias that is not one value per output
 * channel keep the stock kernel.
 */
export function fusedConv2d(
  e: Exec, inputs: Record<string, TI | undefined>, a: Conv2DAttrs & { activation?: string },
): TI {
  const { x, filter, bias, preluActivationWeights } = inputs;
  const act = a.activation ?? 'linear';
  const O = filter!.shape[3]!;
  const biasOk = bias === undefined ||
    (bias.dtype === 'float32' && bias.shape.every((d, i) => d === 1 || (i === bias.shape.length - 1 && d === O)) &&
      bias.shape.reduce((p, d) => p * d, 1) === O);
  const f = forwardKernel(x!, filter!, a);
  if (!f || preluActivationWeights !== undefined || (act !== 'linear' && act !== 'relu') || !biasOk) {
    const ins: Record<string, TI> = { x: x!, filter: filter! };
    if (bias) ins.bias = bias;
    if (preluActivationWeights) ins.preluActivationWeights = preluActivationWeights;
    return e.run('FusedConv2D', ins, a as unknown as Record<string, unknown>);
  }
  return f(e, { bias, relu: act === 'relu' });
}

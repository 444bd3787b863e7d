/**
 * Pooling kernels and gradients.
 *
 * MaxPool (wasm): asm/pool.ts, one SIMD pass over x (stock XNNPACK is ~1.2x slower here).
 *
 * MaxPoolGrad (wasm): the stock kernel starts each window's running maximum at FLT_MIN (the
 * smallest positive float) and keeps the last maximum, so a window whose maximum is <= 0 sends its
 * gradient to element 0 of the tensor. This replacement (asm/pool.ts, SIMD over channels, one pass
 * over x, in place on the heap) gives each window's gradient to its first maximum in row-major
 * window order (TensorFlow's and the cpu backend's convention); overlapping windows accumulate.
 *
 * AvgPool gradient (all backends, via registerGradient): TensorFlow's average pool with 'same'
 * padding divides by the number of valid (non-padding) elements of each window, but the stock
 * AvgPoolGrad kernels divide by the full window size. We pre-scale dy by (kh*kw / valid count) per
 * output position and then run the stock kernel, which is a plain scatter of dy / (kh*kw).
 */
import * as tf from '@tensorflow/tfjs';
import { Exec, TI } from './exec.js';
import { heapOffset, simdKernels } from './simd.js';

type Shape4 = [number, number, number, number];

/** The geometry both asm/pool.ts kernels take after their pointers: N, H, W, C, OH, OW, kh, kw, sh, sw, top, left. */
type PoolGeometry = [number, number, number, number, number, number, number, number, number, number, number, number];

/** asm/pool.ts; pointers are byte offsets into the wasm heap. */
interface PoolKernels {
  maxPool(x: number, y: number, ...g: PoolGeometry): void;
  maxPoolGrad(x: number, dy: number, dx: number, ...g: PoolGeometry): void;
}
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil';

function poolGeometry(
  x: TI, filterSize: number | [number, number], strides: number | [number, number], pad: Pad, dimRoundingMode?: Rounding,
): { info: tf.backend_util.Conv2DInfo; g: PoolGeometry } {
  const [N, H, W, C] = x.shape as Shape4;
  const info = tf.backend_util.computePool2DInfo([N, H, W, C], filterSize, strides, 1, pad, dimRoundingMode, 'channelsLast');
  const g: PoolGeometry = [N, H, W, C, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left];
  return { info, g };
}

export function maxPool(
  e: Exec, x: TI, filterSize: number | [number, number], strides: number | [number, number], pad: Pad, dimRoundingMode?: Rounding,
): TI {
  const { info, g } = poolGeometry(x, filterSize, strides, pad, dimRoundingMode);
  const y = e.alloc(info.outShape);
  if (info.outShape.some((d) => d === 0)) return y;
  simdKernels<PoolKernels>(e.backend).maxPool(heapOffset(e.backend, x), heapOffset(e.backend, y), ...g);
  return y;
}

export function maxPoolGrad(
  e: Exec,
  dy: TI,
  x: TI,
  filterSize: number | [number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: Rounding,
): TI {
  const { info, g } = poolGeometry(x, filterSize, strides, pad, dimRoundingMode);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error('tsnas kernels: dilated max pool gradient is not implemented');
  }
  const dx = e.alloc(x.shape);
  simdKernels<PoolKernels>(e.backend).maxPoolGrad(heapOffset(e.backend, x), heapOffset(e.backend, dy), heapOffset(e.backend, dx), ...g);
  return dx;
}

/** Number of valid (non-padding) input elements of each pooling window, shape [OH*OW]. */
export function validCounts(info: tf.backend_util.Conv2DInfo): Float32Array {
  const { outHeight: OH, outWidth: OW, inHeight: H, inWidth: W } = info;
  const kh = info.effectiveFilterHeight;
  const kw = info.effectiveFilterWidth;
  const out = new Float32Array(OH * OW);
  for (let i = 0; i < OH; i++) {
    const r0 = i * info.strideHeight - info.padInfo.top;
    const rows = Math.min(r0 + kh, H) - Math.max(r0, 0);
    for (let j = 0; j < OW; j++) {
      const c0 = j * info.strideWidth - info.padInfo.left;
      const cols = Math.min(c0 + kw, W) - Math.max(c0, 0);
      out[i * OW + j] = rows * cols;
    }
  }
  return out;
}

/** Gradient config for AvgPool that divides by the valid count (registered for every backend). */
export const avgPoolGradConfig: tf.GradConfig = {
  kernelName: 'AvgPool',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor4D];
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: Pad;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    return {
      x: () => {
        const info = tf.backend_util.computePool2DInfo(
          x.shape, filterSize, strides, 1, pad, dimRoundingMode, 'channelsLast');
        const counts = validCounts(info);
        const full = info.effectiveFilterHeight * info.effectiveFilterWidth;
        let needsScale = false;
        for (let i = 0; i < counts.length; i++) {
          const c = counts[i]!;
          counts[i] = full / c;
          if (c !== full) needsScale = true;
        }
        return tf.tidy(() => {
          const d = dy as tf.Tensor4D;
          const scaled = needsScale
            ? tf.mul(d, tf.tensor4d(counts, [1, info.outHeight, info.outWidth, 1]))
            : d;
          return tf.engine().runKernel(
            'AvgPoolGrad',
            { dy: scaled, input: x },
            { filterSize, strides, pad, dimRoundingMode } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor;
        });
      },
    };
  },
};

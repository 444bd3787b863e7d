/**
 * Sum / Mean over leading axes (bias gradients, batch-norm statistics and gradients reduce
 * [N,H,W,C] over [0,1,2]). The stock wasm reductions work on the innermost axis only and transpose
 * first, and the wasm Transpose is slow when the innermost axis moves (~20x slower than XNNPACK).
 * A reduction over leading axes of X viewed as [M, R] is an average pool of [1, M, 1, R] with an
 * [M, 1] window (XNNPACK's pooling: one pass over X, no weight packing), times M for a sum. (A
 * ones-row matmul is just as fast in FLOPs but XNNPACK packs its [M, R] "weights" first, which
 * costs more than the reduction.) Other reductions go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { Exec, TI } from './exec.js';

const MIN_SIZE = 1 << 12;

export function reduceLeading(
  e: Exec,
  kernel: 'Sum' | 'Mean',
  x: TI,
  axis: number | number[],
  keepDims: boolean,
): TI {
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (!leading || x.dtype !== 'float32' || size < MIN_SIZE) {
    return e.run(kernel, { x }, { axis, keepDims });
  }
  const k = axes.length;
  const M = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const rest = x.shape.slice(k);
  const R = rest.reduce((a, b) => a * b, 1);
  const pooled = e.run('AvgPool', { x: e.reshape(x, [1, M, 1, R]) }, {
    filterSize: [M, 1], strides: [1, 1], pad: 'valid', dimRoundingMode: undefined,
  });
  const out = kernel === 'Mean' ? pooled : e.run('Multiply', { a: pooled, b: e.constant(new Float32Array([M]), []) });
  return e.reshape(out, keepDims ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest);
}

/**
 * Gradients of Sum and Mean (registered for every backend): dy broadcast back over the reduced axes
 * (divided by the reduced size for Mean, before broadcasting), one Tile. tfjs 4.22's own build a
 * JavaScript array of ones of x's full size and multiply by it: for a [128, 28, 28, 32] batch-norm
 * statistic or global average pool that is ~10 ms per call on wasm, outside any kernel. Same values
 * (dy * 1 = dy, and the Mean's division is the same one per element).
 */
function reductionGrad(kernelName: 'Sum' | 'Mean'): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const axes = tf.util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x.shape);
      const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const reduceSize = axes.reduce((a, i) => a * x.shape[i]!, 1);
      return {
        x: () => {
          const d = dy as tf.Tensor;
          const scaled = kernelName === 'Mean' ? tf.div(d, reduceSize) : d;
          return tf.broadcastTo(tf.reshape(scaled, expanded), x.shape);
        },
      };
    },
  };
}

export const sumGradConfig = reductionGrad('Sum');
export const meanGradConfig = reductionGrad('Mean');

/**
 * One-pass SIMD replacements (asm/elementwise.ts) for elementwise kernels of every conv/dense
 * training step that the stock wasm backend runs slowly or in several passes:
 * - Add of a bias vector along the last axis (stock: a generic broadcasting loop, ~0.9 ns/element);
 * - the relu gradient dy * step(x) (stock: Step, Cast and Multiply, three passes and two tensors),
 *   as the kernel 'TsnasReluGrad' behind a Relu gradient that uses it only on the packed wasm backend;
 * - MaxPool forward.
 */
import * as tf from '@tensorflow/tfjs';
import { Exec, TI } from './exec.js';
import { heapOffset, simdKernels } from './simd.js';

/** asm/elementwise.ts; pointers are byte offsets into the wasm heap. */
interface ElementwiseKernels {
  biasAdd(x: number, b: number, out: number, rows: number, C: number): void;
  reluGrad(dy: number, x: number, out: number, n: number): void;
  maxPool(
    x: number, y: number,
    N: number, H: number, W: number, C: number,
    OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, top: number, left: number,
  ): void;
}

const size = (t: TI) => t.shape.reduce((a, b) => a * b, 1);

/** Below this many elements the stock kernel's dispatch is as cheap. */
const MIN_ELEMENTS = 4096;

/** a + b: the one-pass kernel when one side is a vector along the other's last axis, else stock Add. */
export function add(e: Exec, a: TI, b: TI): TI {
  const [big, vec] = a.shape.length >= b.shape.length ? [a, b] : [b, a];
  const C = big.shape.at(-1);
  const isBias =
    a.dtype === 'float32' && b.dtype === 'float32' && big.shape.length >= 2 && size(big) >= MIN_ELEMENTS &&
    vec.shape.length >= 1 && // a rank-0 scalar is no bias vector (the kernel would read C floats past it)
    vec.shape.every((d, i) => d === (i === vec.shape.length - 1 ? C : 1));
  if (!isBias) return e.run('Add', { a, b });
  const out = e.alloc(big.shape);
  simdKernels<ElementwiseKernels>(e.backend).biasAdd(
    heapOffset(e.backend, big), heapOffset(e.backend, vec), heapOffset(e.backend, out), size(big) / C!, C!);
  return out;
}

/** dy where x > 0, else 0 (same shapes). */
export function reluGrad(e: Exec, dy: TI, x: TI): TI {
  const out = e.alloc(x.shape);
  simdKernels<ElementwiseKernels>(e.backend).reluGrad(
    heapOffset(e.backend, dy), heapOffset(e.backend, x), heapOffset(e.backend, out), size(x));
  return out;
}

export function maxPool(
  e: Exec,
  x: TI,
  filterSize: number | [number, number],
  strides: number | [number, number],
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TI {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const info = tf.backend_util.computePool2DInfo([N, H, W, C], filterSize, strides, 1, pad, dimRoundingMode, 'channelsLast');
  const y = e.alloc(info.outShape);
  if (size(y) === 0) return y;
  simdKernels<ElementwiseKernels>(e.backend).maxPool(
    heapOffset(e.backend, x), heapOffset(e.backend, y), N, H, W, C, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left);
  return y;
}

export const RELU_GRAD_KERNEL = 'TsnasReluGrad';

/**
 * Relu's gradient (registered for every backend): the one-pass kernel where it is registered (the
 * packed wasm backend), otherwise tfjs's own dy * step(x).
 */
export const reluGradConfig: tf.GradConfig = {
  kernelName: 'Relu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return {
      x: () =>
        tf.getKernel(RELU_GRAD_KERNEL, tf.getBackend()) && x.dtype === 'float32'
          ? (tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: dy as tf.Tensor, x }) as tf.Tensor)
          : tf.mul(dy as tf.Tensor, tf.cast(tf.step(x), 'float32')),
    };
  },
};

/**
 * One-pass SIMD replacements (asm/elementwise.ts) for elementwise kernels of every conv/dense
 * training step that the stock wasm backend runs slowly or in several passes:
 * - Add, Sub, Multiply and RealDiv with a per-channel vector or a scalar (bias adds, batch norm's
 *   gradient; stock: a generic broadcasting loop, ~0.9 ns/element);
 * - FusedBatchNorm with per-channel statistics (stock: ~3.4 ns/element);
 * - the relu gradient dy * step(x) (stock: Step, Cast and Multiply, three passes and two tensors),
 *   as the kernel 'TsnasReluGrad' behind a Relu gradient that uses it only on the packed wasm backend.
 */
import * as tf from '@tensorflow/tfjs';
import { Exec, TI } from './exec.js';
import { heapOffset, simdKernels } from './simd.js';

/** asm/elementwise.ts; pointers are byte offsets into the wasm heap. */
interface ElementwiseKernels {
  binaryLastAxis(x: number, v: number, out: number, rows: number, C: number, op: number, vFirst: number): void;
  binaryScalar(x: number, s: number, out: number, n: number, op: number, sFirst: number): void;
  batchNormApply(x: number, kb: number, out: number, rows: number, C: number): void;
  reluGrad(dy: number, x: number, out: number, n: number): void;
}

const size = (t: TI) => t.shape.reduce((a, b) => a * b, 1);

/** Below this many elements the stock kernel's dispatch is as cheap. */
const MIN_ELEMENTS = 4096;

/** How often the one-pass paths ran instead of a stock kernel (tests check that they do). */
export const simdCalls = { binary: 0, batchNorm: 0 };

/** The stock kernels this file replaces for per-channel and scalar operands, and their op codes. */
export const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;
export type BinaryOp = keyof typeof BINARY_OPS;

/**
 * a (op) b: one pass when one side is a scalar or a vector along the other's last axis (leading
 * dimensions 1, rank not above the other's), as bias adds, batch norm and its gradient produce;
 * otherwise the stock kernel.
 */
export function binary(e: Exec, op: BinaryOp, a: TI, b: TI): TI {
  const aSmall = size(a) < size(b);
  const [big, small] = aSmall ? [b, a] : [a, b];
  const C = big.shape.at(-1)!;
  const fits =
    a.dtype === 'float32' && b.dtype === 'float32' && size(big) >= MIN_ELEMENTS && size(small) < size(big) &&
    small.shape.length <= big.shape.length;
  const n = size(small);
  const h = heapOffset;
  if (fits && n === 1) {
    simdCalls.binary++;
    const out = e.alloc(big.shape);
    const s = e.view(small)[0]!;
    simdKernels<ElementwiseKernels>(e.backend).binaryScalar(h(e.backend, big), s, h(e.backend, out), size(big), BINARY_OPS[op], aSmall ? 1 : 0);
    return out;
  }
  // A scalar-shaped [1] never reaches here (n === 1 above); [C] and [1, ..., 1, C] do.
  if (fits && small.shape.length >= 1 && small.shape.every((d, i) => d === (i === small.shape.length - 1 ? C : 1))) {
    simdCalls.binary++;
    const out = e.alloc(big.shape);
    simdKernels<ElementwiseKernels>(e.backend).binaryLastAxis(
      h(e.backend, big), h(e.backend, small), h(e.backend, out), size(big) / C, C, BINARY_OPS[op], aSmall ? 1 : 0);
    return out;
  }
  return e.run(op, { a, b });
}

/**
 * FusedBatchNorm (inference form, also what training runs after tf.moments): x normalised with
 * per-channel mean, variance and optional scale and offset of shape [C]; anything else is stock.
 */
export function batchNorm(
  e: Exec, x: TI, mean: TI, variance: TI, scale: TI | undefined, offset: TI | undefined, eps: number,
): TI {
  const C = x.shape.at(-1)!;
  const vec = (t: TI | undefined) => t === undefined || (t.dtype === 'float32' && size(t) === C && t.shape.at(-1) === C);
  if (x.dtype !== 'float32' || size(x) < MIN_ELEMENTS || ![mean, variance, scale, offset].every(vec)) {
    return e.run('FusedBatchNorm', { x, mean, variance, ...(scale ? { scale } : {}), ...(offset ? { offset } : {}) }, { varianceEpsilon: eps });
  }
  simdCalls.batchNorm++;
  // k = scale / sqrt(variance + eps), b = offset - mean * k, per channel (C floats, in float64).
  const kb = e.alloc([2 * C]);
  const out = e.alloc(x.shape);
  const [m, v, g, o, f] = [mean, variance, scale, offset, kb].map((t) => (t ? e.view(t) : undefined));
  for (let c = 0; c < C; c++) {
    const k = (g ? g[c]! : 1) / Math.sqrt(v![c]! + eps);
    f![c] = k;
    f![C + c] = (o ? o[c]! : 0) - m![c]! * k;
  }
  simdKernels<ElementwiseKernels>(e.backend).batchNormApply(heapOffset(e.backend, x), heapOffset(e.backend, kb), heapOffset(e.backend, out), size(x) / C, C);
  return out;
}

/** dy where x > 0, else 0 (same shapes). */
export function reluGrad(e: Exec, dy: TI, x: TI): TI {
  const out = e.alloc(x.shape);
  simdKernels<ElementwiseKernels>(e.backend).reluGrad(
    heapOffset(e.backend, dy), heapOffset(e.backend, x), heapOffset(e.backend, out), size(x));
  return out;
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

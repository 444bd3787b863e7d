/**
 * The tsnas training-kernel pack: gradient kernels for the wasm backend built on its fast forward
 * kernels. `registerTrainingKernels('wasm')` is called by `initBackend` after the wasm backend is
 * ready; it captures the stock kernels it builds on, then overrides (tf.registerKernel) the
 * kernels that are missing, wrong or slow for training on stock wasm:
 *   - conv / depthwise filter gradients (missing), filter-grad.ts, and input gradients, conv.ts
 *   - Conv2D / FusedConv2D 3x3 stride 1 (Winograd F(2x2,3x3) instead of XNNPACK's, which repacks
 *     each new filter), conv-forward.ts
 *   - MaxPoolGrad (wrong when a window's maximum is <= 0), pool.ts
 *   - BatchMatMul / _FusedMatMul (XNNPACK packs B on every call; transposes / batches are scalar loops), matmul.ts
 *   - Sum / Mean over leading axes (bias and batch-norm gradients; transpose-then-reduce), reduce.ts
 *   - Identity and same-dtype Cast (full copies; now references, as on the cpu backend)
 *   - Tile of a whole tensor (element-by-element on stock wasm; the batch-norm gradient), tile.ts
 * Batch norm needs no kernel of its own: its gradient is elementwise ops plus the leading-axis
 * reductions above. The AvgPool gradient fix is a gradient (not kernel) override, pool.ts, and
 * applies to every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { StockKernels, withExec, TI } from './exec.js';
import { checkNHWC, checkNoDilation, conv2dBackpropInput, depthwiseBackpropInput } from './conv.js';
import { conv2dBackpropFilter, depthwiseBackpropFilter } from './filter-grad.js';
import { conv2d, fusedConv2d } from './conv-forward.js';
import { matMulReroute } from './matmul.js';
import { batchNorm, binary, BINARY_OPS, type BinaryOp, RELU_GRAD_KERNEL, reluGrad, reluGradConfig } from './elementwise.js';
import { softmaxXentKernel } from './loss.js';
import { avgPoolGradConfig, maxPool, maxPoolGrad } from './pool.js';
import { simdKernels } from './simd.js';
import { meanGradConfig, reduceLeading, sumGradConfig } from './reduce.js';
import { tileFast } from './tile.js';

export { avgPoolGradConfig, validCounts } from './pool.js';

type Shape4 = [number, number, number, number];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyAttrs = any;

/** Kernels this pack overrides on the wasm backend. */
export const PACK_KERNELS = [
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'MaxPoolGrad',
  'BatchMatMul',
  '_FusedMatMul',
  'Sum',
  'Mean',
  'Identity',
  'Cast',
  'Tile',
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'FusedBatchNorm',
  'MaxPool',
  RELU_GRAD_KERNEL,
] as const;

/** Stock kernels the pack composes. */
const BUILDING_BLOCKS = [
  'Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'BatchMatMul', '_FusedMatMul', 'Transpose', 'Reshape',
  'Slice', 'PadV2', 'Concat', 'Reverse', 'Sum', 'Mean', 'Step', 'Sub', 'Multiply', 'Add', 'AvgPool',
  'Identity', 'Cast', 'StridedSlice', 'Tile', 'RealDiv', 'FusedBatchNorm',
];

const registered = new Set<string>();
let gradientRegistered = false;

function kernelConfigs(backendName: string, stock: StockKernels): tf.KernelConfig[] {
  const wrap = (
    kernelName: string,
    f: (e: import('./exec.js').Exec, inputs: Record<string, TI>, attrs: AnyAttrs) => TI,
  ): tf.KernelConfig => ({
    kernelName,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) =>
      withExec(backend as tf.KernelBackend, stock, (e) =>
        f(e, inputs as unknown as Record<string, TI>, attrs as AnyAttrs)),
  });
  return [
    wrap('Conv2D', (e, { x, filter }, a) => conv2d(e, x!, filter!, a)),
    wrap('FusedConv2D', (e, inputs, a) => fusedConv2d(e, inputs, a)),
    wrap('Conv2DBackpropFilter', (e, { x, dy }, a) => {
      checkNHWC(a.dataFormat, 'Conv2DBackpropFilter');
      return conv2dBackpropFilter(e, x!, dy!, a.filterShape as Shape4, a.strides, a.pad, a.dimRoundingMode);
    }),
    wrap('Conv2DBackpropInput', (e, { dy, filter }, a) => {
      checkNHWC(a.dataFormat, 'Conv2DBackpropInput');
      return conv2dBackpropInput(e, dy!, filter!, a.inputShape as Shape4, a.strides, a.pad, a.dimRoundingMode);
    }),
    wrap('DepthwiseConv2dNativeBackpropFilter', (e, { x, dy }, a) => {
      checkNoDilation(a.dilations, 'DepthwiseConv2dNative');
      return depthwiseBackpropFilter(e, x!, dy!, a.filterShape as Shape4, a.strides, a.pad, a.dimRoundingMode);
    }),
    wrap('DepthwiseConv2dNativeBackpropInput', (e, { dy, filter }, a) => {
      checkNoDilation(a.dilations, 'DepthwiseConv2dNative');
      return depthwiseBackpropInput(e, dy!, filter!, a.inputShape as Shape4, a.strides, a.pad, a.dimRoundingMode);
    }),
    wrap('MaxPoolGrad', (e, { dy, input }, a) =>
      maxPoolGrad(e, dy!, input!, a.filterSize, a.strides, a.pad, a.dimRoundingMode)),
    wrap('BatchMatMul', (e, inputs, a) => matMulReroute(e, 'BatchMatMul', inputs, a)),
    wrap('_FusedMatMul', (e, inputs, a) => matMulReroute(e, '_FusedMatMul', inputs, a)),
    wrap('Sum', (e, { x }, a) => reduceLeading(e, 'Sum', x!, a.axis, a.keepDims === true)),
    wrap('Mean', (e, { x }, a) => reduceLeading(e, 'Mean', x!, a.axis, a.keepDims === true)),
    // Identity and same-dtype Cast copy the whole tensor on stock wasm (the relu gradient casts
    // float32 to float32 on every step); return a new reference instead, as the cpu backend does.
    wrap('Identity', (e, { x }) => (x!.dtype === 'string' ? e.run('Identity', { x: x! }) : x!)),
    wrap('Cast', (e, { x }, a) =>
      (x!.dtype === a.dtype && x!.dtype !== 'string' ? x! : e.run('Cast', { x: x! }, a))),
    wrap('Tile', (e, { x }, a) => tileFast(e, x!, a.reps as number[])),
    ...(Object.keys(BINARY_OPS) as BinaryOp[]).map((op) => wrap(op, (e, { a, b }) => binary(e, op, a!, b!))),
    wrap('FusedBatchNorm', (e, { x, mean, variance, scale, offset }, a) =>
      batchNorm(e, x!, mean!, variance!, scale, offset, a.varianceEpsilon as number)),
    wrap('MaxPool', (e, { x }, a) => maxPool(e, x!, a.filterSize, a.strides, a.pad, a.dimRoundingMode)),
    wrap(RELU_GRAD_KERNEL, (e, { dy, x }) => reluGrad(e, dy!, x!)),
    softmaxXentKernel(backendName),
  ];
}

/**
 * Registers the pack on `backendName` (only 'wasm' is supported: on other backends the stock
 * kernels are kept). Must be called after the backend has been initialised (tf.setBackend), so that
 * the stock kernels it composes have run their setup. Idempotent.
 */
export function registerTrainingKernels(backendName = 'wasm'): void {
  registerGradientFixes();
  if (backendName !== 'wasm') {
    throw new Error(`tsnas kernels: the training-kernel pack is for 'wasm', not '${backendName}'`);
  }
  if (registered.has(backendName)) return;
  tf.registerGradient(reluGradConfig); // falls back to tfjs's own formula where the kernel is not registered
  const backend = tf.findBackend(backendName);
  if (backend) simdKernels(backend); // fail here, with the fix, if asm/build/kernels.wasm is missing
  const stock = new StockKernels(backendName);
  for (const name of BUILDING_BLOCKS) stock.capture(name);
  for (const config of kernelConfigs(backendName, stock)) {
    if (tf.getKernel(config.kernelName, backendName)) tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel(config);
  }
  registered.add(backendName);
}

/** Registers only the backend-independent gradient fixes (AvgPool, and Sum/Mean without a JS ones array; used on cpu / tfjs-node too). */
export function registerGradientFixes(): void {
  if (!gradientRegistered) {
    for (const g of [avgPoolGradConfig, sumGradConfig, meanGradConfig]) tf.registerGradient(g);
    gradientRegistered = true;
  }
}

export function isPackRegistered(backendName = 'wasm'): boolean {
  return registered.has(backendName);
}

/**
 * Matmul on the wasm backend (BatchMatMul / _FusedMatMul).
 *
 * Products run on tsnas's SIMD GEMM (asm/matmul.ts), in place on the heap: it reads op(A) in
 * either orientation, packs op(B) one cache block at a time into a heap scratch tensor, and fuses a
 * per-column bias and relu into its stores. The stock kernel (XNNPACK) is slower for training:
 * it packs its whole right-hand operand on every call (~5 ns per float; the cache that would avoid
 * this is keyed by the tensor, and every operand is new at every step), and with transposeA /
 * transposeB or a batch dimension it is a scalar triple loop. Fused activations other than relu
 * and biases that are not one value per column are applied after the product by the stock kernels.
 *
 * Only what the GEMM cannot take (non-float32 operands, an empty dimension, batch shapes of a and b
 * that broadcast both ways) goes to the stock kernel, with the transposes made explicit.
 */
import * as tf from '@tensorflow/tfjs';
import { Exec, TI } from './exec.js';
import { heapOffset, simdKernels } from './simd.js';

/** asm/matmul.ts; pointers are byte offsets into the wasm heap. */
export interface GemmKernels {
  gemmScratchFloats(N: number, K: number): number;
  gemm(
    a: number, b: number, c: number, bias: number, scratch: number,
    M: number, N: number, K: number, transposeA: boolean, transposeB: boolean, relu: boolean,
  ): void;
}

type MatMulKernel = 'BatchMatMul' | '_FusedMatMul';

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** BatchMatMul / _FusedMatMul on wasm: the SIMD GEMM, else the stock kernel (see top). */
export function matMulReroute(
  e: Exec,
  kernel: MatMulKernel,
  inputs: Record<string, TI>,
  attrs: Record<string, unknown>,
): TI {
  const { a, b, bias, preluActivationWeights } = inputs as Record<string, TI | undefined> & { a: TI; b: TI };
  const tA = attrs['transposeA'] === true;
  const tB = attrs['transposeB'] === true;
  const activation = (attrs['activation'] as string | undefined) ?? 'linear';
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = a.shape[tA ? ra - 1 : ra - 2]!;
  const K = a.shape[tA ? ra - 2 : ra - 1]!;
  const N = b.shape[tB ? rb - 2 : rb - 1]!;
  const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = size(batchShape);
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  const simd =
    a.dtype === 'float32' && b.dtype === 'float32' && (!bias || bias.dtype === 'float32') &&
    M > 0 && N > 0 && K > 0 && (batchA === batch || batchA === 1) && (batchB === batch || batchB === 1);
  if (!simd) return matMulStock(e, kernel, inputs, attrs);
  const rowBias = bias !== undefined && size(bias.shape) === N && bias.shape[bias.shape.length - 1] === N;
  const fuseRelu = activation === 'relu' && (!bias || rowBias);
  const k = simdKernels<GemmKernels>(e.backend);
  let out = e.alloc([...batchShape, M, N]);
  const scratch = e.alloc([k.gemmScratchFloats(N, K)]);
  const pa = heapOffset(e.backend, a);
  const pb = heapOffset(e.backend, b);
  const pc = heapOffset(e.backend, out);
  const pbias = rowBias ? heapOffset(e.backend, bias) : 0;
  const ps = heapOffset(e.backend, scratch);
  for (let i = 0; i < batch; i++) {
    k.gemm(
      pa + (batchA > 1 ? i * M * K * 4 : 0), pb + (batchB > 1 ? i * K * N * 4 : 0), pc + i * M * N * 4,
      pbias, ps, M, N, K, tA, tB, fuseRelu);
  }
  e.free(scratch);
  if (bias && !rowBias) out = e.run('Add', { a: out, b: bias });
  if (fuseRelu) return out;
  return activate(e, out, activation, preluActivationWeights, attrs['leakyreluAlpha'] as number | undefined);
}

/** A fused matmul's activation by the stock kernels (tfjs's applyActivation). */
function activate(e: Exec, x: TI, activation: string, prelu: TI | undefined, alpha: number | undefined): TI {
  switch (activation) {
    case 'linear': return x;
    case 'relu': return e.run('Relu', { x });
    case 'relu6': return e.run('Relu6', { x });
    case 'elu': return e.run('Elu', { x });
    case 'sigmoid': return e.run('Sigmoid', { x });
    case 'prelu': return e.run('Prelu', { x, alpha: prelu! });
    case 'leakyrelu': return e.run('LeakyRelu', { x }, { alpha: alpha ?? 0.2 });
    default: throw new Error(`tsnas kernels: fused matmul activation '${activation}' is not implemented`);
  }
}

function swapLast2(e: Exec, x: TI): TI {
  const r = x.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return e.transpose(x, perm);
}

/** The stock kernel with explicit transposes (with transposeA/B it is a scalar loop on wasm). */
function matMulStock(e: Exec, kernel: MatMulKernel, inputs: Record<string, TI>, attrs: Record<string, unknown>): TI {
  const { a, b } = inputs as { a: TI; b: TI };
  const aa = attrs['transposeA'] === true ? swapLast2(e, a) : a;
  const bb = attrs['transposeB'] === true ? swapLast2(e, b) : b;
  return e.run(kernel, { ...inputs, a: aa, b: bb }, { ...attrs, transposeA: false, transposeB: false });
}

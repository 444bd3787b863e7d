/**
 * The SIMD GEMM behind BatchMatMul / _FusedMatMul on wasm (asm/matmul.ts, src/nn/kernels/matmul.ts)
 * against the cpu backend: products in all four transpose combinations with tails of the 4 x 8
 * register block and of the cache blocks (KC 256, NC 512, MC 128), batches, fused bias and
 * activations, dense-layer gradients; and that the kernel writes nothing outside its output and
 * scratch.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend.js';
import { heapOffset, simdKernels } from '../../src/nn/kernels/simd.js';
import type { GemmKernels } from '../../src/nn/kernels/matmul.js';
import { Rng } from '../../src/util/rng.js';
import { type Arr, randArr, relErr } from '../helpers/arrays.js';



type Fn = (...xs: tf.Tensor[]) => tf.Tensor;

async function valueOn(backend: string, f: Fn, xs: Arr[]): Promise<{ shape: number[]; data: Float32Array }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const y = f(...xs.map((a) => tf.tensor(a.data, a.shape)));
    return { shape: y.shape, data: y.dataSync() as Float32Array };
  });
}

/** f on wasm equals f on cpu within `tol` (relative to the largest value), same shape. */
async function sameAsCpu(f: Fn, xs: Arr[], tol = 1e-5): Promise<void> {
  const w = await valueOn('wasm', f, xs);
  const c = await valueOn('cpu', f, xs);
  expect(w.shape).toEqual(c.shape);
  expect(relErr(w.data, c.data)).toBeLessThan(tol);
}

/** Gradients of sum(f(xs) * R) on `backend`, R fixed random weights. */
async function gradsOn(backend: string, f: Fn, xs: Arr[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ts = xs.map((a) => tf.tensor(a.data, a.shape));
    const y = f(...ts);
    const r = tf.tensor(randArr(new Rng(7), y.shape).data, y.shape);
    return tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), r)))(ts).map((g) => g.dataSync() as Float32Array);
  });
}

beforeAll(async () => {
  expect(await initBackend({ backend: 'wasm' })).toBe('wasm');
});

const mm = (tA: boolean, tB: boolean): Fn => (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, tA, tB);

/** Operand shapes of op(A)[M,K] op(B)[K,N] for the transpose flags. */
function operands(rng: Rng, M: number, K: number, N: number, tA: boolean, tB: boolean): Arr[] {
  return [randArr(rng, tA ? [K, M] : [M, K]), randArr(rng, tB ? [N, K] : [K, N])];
}

describe('SIMD GEMM products (BatchMatMul) vs cpu', () => {
  const rng = new Rng(11);
  const flags: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];
  it('register-block tails: odd M, N, K; 1 x 1; K = 1; N < 8; M < 4', async () => {
    const shapes: [number, number, number][] = [[1, 1, 1], [7, 1, 5], [1, 9, 1], [5, 13, 11], [3, 7, 2], [9, 17, 33], [4, 8, 4]];
    for (const [M, K, N] of shapes) {
      for (const [tA, tB] of flags) await sameAsCpu(mm(tA, tB), operands(rng, M, K, N, tA, tB));
    }
  });
  it('cache-block tails: K > 256, N > 512, M > 128 (and odd)', async () => {
    for (const [tA, tB] of flags) await sameAsCpu(mm(tA, tB), operands(rng, 133, 301, 523, tA, tB));
  });
  it('batched: equal batches, a batch broadcast against one matrix, rank 4', async () => {
    await sameAsCpu((a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D), [randArr(rng, [3, 9, 14]), randArr(rng, [3, 14, 10])]);
    await sameAsCpu((a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, true, true), [randArr(rng, [3, 14, 9]), randArr(rng, [3, 10, 14])]);
    await sameAsCpu((a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true), [randArr(rng, [1, 6, 5]), randArr(rng, [4, 11, 5])]);
    await sameAsCpu((a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, true, false), [randArr(rng, [4, 5, 6]), randArr(rng, [1, 5, 11])]);
    await sameAsCpu((a, b) => tf.matMul(a as tf.Tensor4D, b as tf.Tensor4D), [randArr(rng, [2, 3, 5, 7]), randArr(rng, [2, 3, 7, 6])]);
  });
});

describe('SIMD GEMM fused matmul (_FusedMatMul) vs cpu', () => {
  const rng = new Rng(12);
  const fused = (activation: tf.fused.Activation, tA = false, tB = false, extra: { leakyreluAlpha?: number } = {}): Fn =>
    (a, b, bias, alpha) => tf.fused.matMul({
      a: a as tf.Tensor2D, b: b as tf.Tensor2D, transposeA: tA, transposeB: tB, bias, activation,
      preluActivationWeights: alpha, ...extra,
    });
  it('bias + relu and bias + linear, every transpose combination, with tails', async () => {
    for (const [M, K, N] of [[6, 20, 7], [130, 37, 19]] as [number, number, number][]) {
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as [boolean, boolean][]) {
        const [a, b] = operands(rng, M, K, N, tA, tB);
        await sameAsCpu(fused('relu', tA, tB), [a!, b!, randArr(rng, [N])]);
        await sameAsCpu(fused('linear', tA, tB), [a!, b!, randArr(rng, [N])]);
      }
    }
  });
  it('relu without bias kills the negative outputs', async () => {
    const xs = [randArr(rng, [9, 12]), randArr(rng, [12, 10])];
    await sameAsCpu((a, b) => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, activation: 'relu' }), xs);
    const y = await valueOn('wasm', (a, b) => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, activation: 'relu' }), xs);
    expect(y.data.some((v) => v === 0)).toBe(true);
    expect(y.data.every((v) => v >= 0)).toBe(true);
  });
  it('a bias that is not one value per column, and the other activations', async () => {
    const [a, b] = [randArr(rng, [5, 9]), randArr(rng, [9, 6])];
    await sameAsCpu(fused('relu'), [a, b, randArr(rng, [5, 6])]); // full [M, N] bias
    await sameAsCpu(fused('linear'), [a, b, randArr(rng, [5, 1])]); // per-row bias
    await sameAsCpu(fused('relu6'), [a, b, randArr(rng, [6])]);
    await sameAsCpu(fused('elu'), [a, b, randArr(rng, [6])]);
    await sameAsCpu(fused('sigmoid'), [a, b, randArr(rng, [6])]);
    await sameAsCpu(fused('leakyrelu', false, false, { leakyreluAlpha: 0.1 }), [a, b, randArr(rng, [6])]);
    await sameAsCpu(fused('prelu'), [a, b, randArr(rng, [6]), randArr(rng, [6])]);
  });
});

describe('dense-layer gradients through the SIMD GEMM', () => {
  const rng = new Rng(13);
  it('dense (bias + relu) and a linear layer with transposes: gradients match cpu within 1e-4, with tails', async () => {
    const cases: [Fn, Arr[]][] = [
      [(x, w, c) => tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: c, activation: 'relu' }),
        [randArr(rng, [13, 27]), randArr(rng, [27, 11]), randArr(rng, [11])]],
      [(x, w, c) => tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: c, activation: 'relu' }),
        [{ shape: [1, 1], data: Float32Array.of(1.5) }, { shape: [1, 1], data: Float32Array.of(-2) }, { shape: [1], data: Float32Array.of(4) }]],
      [(x, w) => tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, true, true), [randArr(rng, [9, 5]), randArr(rng, [7, 9])]],
      [(x, w, c) => tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: c }),
        [randArr(rng, [33, 300]), randArr(rng, [300, 19]), randArr(rng, [19])]],
    ];
    for (const [f, xs] of cases) {
      const gw = await gradsOn('wasm', f, xs);
      const gc = await gradsOn('cpu', f, xs);
      for (let i = 0; i < xs.length; i++) {
        expect(relErr(gw[i]!, gc[i]!), `input ${i}`).toBeLessThan(1e-4);
        expect(gw[i]!.some((v) => v !== 0)).toBe(true);
      }
    }
  });
});

describe('the GEMM kernel stays inside its output and scratch', () => {
  it('guard values around C and after the scratch are untouched; C is exact on small integers', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const k = simdKernels<GemmKernels>(backend);
    const GUARD = 64;
    for (const [M, N, K, tA, tB] of [[5, 13, 7, true, false], [3, 9, 300, false, true], [130, 517, 3, true, true], [1, 1, 1, false, false]] as [number, number, number, boolean, boolean][]) {
      const rng = new Rng(M * 1000 + N);
      const int = () => rng.int(-3, 3); // exact sums in float32
      const A = Float32Array.from({ length: M * K }, int); // op(A) [M,K], stored as A or A^T
      const B = Float32Array.from({ length: K * N }, int); // op(B) [K,N], stored as B or B^T
      const bias = Float32Array.from({ length: N }, int);
      const sizeS = k.gemmScratchFloats(N, K);
      const buf = tf.fill([GUARD + M * N + GUARD + sizeS + GUARD], 12345);
      const a = tf.tensor2d(A, [M, K]);
      const b = tf.tensor2d(B, [K, N]);
      const as = tA ? tf.transpose(a) : a;
      const bs = tB ? tf.transpose(b) : b;
      const bt = tf.tensor1d(bias);
      const base = heapOffset(backend, buf);
      const pc = base + GUARD * 4;
      const ps = pc + (M * N + GUARD) * 4;
      k.gemm(heapOffset(backend, as), heapOffset(backend, bs), pc, heapOffset(backend, bt), ps, M, N, K, tA, tB, true);
      const out = buf.dataSync() as Float32Array;
      expect(out.subarray(GUARD, GUARD + M * N).some((v) => v > 0)).toBe(true);
      for (let i = 0; i < GUARD; i++) {
        expect(out[i]).toBe(12345);
        expect(out[GUARD + M * N + i]).toBe(12345);
        expect(out[out.length - 1 - i]).toBe(12345);
      }
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = bias[j]!;
          for (let p = 0; p < K; p++) s += A[i * K + p]! * B[p * N + j]!;
          expect(out[GUARD + i * N + j], `C[${i},${j}] of ${M}x${N}x${K}`).toBe(Math.max(s, 0));
        }
      }
      tf.dispose([buf, a, b, as, bs, bt]);
    }
  });
});

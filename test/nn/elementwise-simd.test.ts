/**
 * The one-pass SIMD elementwise kernels of the training-kernel pack (src/nn/kernels/elementwise.ts):
 * called directly on the wasm heap and through tfjs ops, against the cpu backend. Sizes are above
 * the pack's stock-kernel threshold and include channel counts that are not multiples of 4.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend.js';
import { add, maxPool, reluGrad } from '../../src/nn/kernels/elementwise.js';
import { StockKernels, withExec } from '../../src/nn/kernels/exec.js';
import { Rng } from '../../src/util/rng.js';

function rand(shape: number[], seed: number, zeros = false): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  // With `zeros`, a quarter of the values are exactly 0 (relu's kink) and some are ties.
  const d = Float32Array.from({ length: n }, () => (zeros && rng.random() < 0.25 ? 0 : Math.round(rng.normal() * 8) / 8));
  return tf.tensor(d, shape);
}

/** Runs f on the wasm backend with the pack's Exec (the kernel function itself, not the registered op). */
function direct(f: (e: import('../../src/nn/kernels/exec.js').Exec, ...xs: tf.TensorInfo[]) => tf.TensorInfo, ...xs: tf.Tensor[]): Float32Array {
  const out = withExec(tf.backend(), new StockKernels('wasm'), (e) => f(e, ...xs));
  const t = tf.engine().makeTensorFromTensorInfo(out);
  const d = t.dataSync() as Float32Array;
  t.dispose();
  return plusZero(d);
}

/** -0 -> +0: max and masks may give either sign of zero (numerically equal). */
function plusZero(d: ArrayLike<number>): Float32Array {
  return Float32Array.from(d, (v) => v + 0);
}

async function onCpu(f: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const d = tf.tidy(() => f().dataSync() as Float32Array);
  await tf.setBackend('wasm');
  return plusZero(d);
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('bias add', () => {
  for (const [shape, C] of [[[8, 16, 16, 6], 6], [[100, 67], 67], [[4, 9, 9, 32], 32]] as const) {
    it(`[${shape}] + [${C}] equals cpu bitwise, both operand orders`, async () => {
      const x = rand([...shape], 1);
      const b = rand([C], 2);
      const want = await onCpu(() => tf.add(rand([...shape], 1), rand([C], 2)));
      expect(direct((e, p, q) => add(e, p!, q!), x, b)).toEqual(want);
      expect(direct((e, p, q) => add(e, p!, q!), b, x)).toEqual(want);
      expect(plusZero(tf.add(x, b).dataSync())).toEqual(want);
      tf.dispose([x, b]);
    });
  }
  it('a scalar, or a row whose batch is on the other side, is no bias vector (stock Add, right values)', async () => {
    const x = rand([64, 70], 8);
    const one = tf.scalar(1);
    const want = await onCpu(() => tf.add(rand([64, 70], 8), tf.scalar(1)));
    expect(plusZero(tf.add(x, one).dataSync())).toEqual(want);
    expect(plusZero(tf.add(one, x).dataSync())).toEqual(want);
    const row = rand([1, 70], 9);
    const wantRow = await onCpu(() => tf.add(rand([1, 70], 9), rand([64, 70], 8)));
    expect(plusZero(tf.add(row, x).dataSync())).toEqual(wantRow);
    tf.dispose([x, one, row]);
  });
  it('other broadcasts and small tensors keep the stock kernel (same values)', async () => {
    const x = rand([6, 40, 20], 3);
    const col = rand([6, 40, 1], 4);
    const want = await onCpu(() => tf.add(rand([6, 40, 20], 3), rand([6, 40, 1], 4)));
    expect(plusZero(tf.add(x, col).dataSync())).toEqual(want);
    tf.dispose([x, col]);
  });
});

describe('relu gradient', () => {
  it('dy where x > 0 (0 at x == 0), directly and through tf.grad; equals cpu', async () => {
    const shape = [3, 11, 13, 10]; // 4,290 elements: SIMD body + scalar tail
    const x = rand(shape, 5, true);
    const dy = rand(shape, 6);
    const want = await onCpu(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), rand(shape, 6))))(rand(shape, 5, true)));
    expect(direct((e, d, a) => reluGrad(e, d!, a!), dy, x)).toEqual(want);
    expect(plusZero(tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), dy)))(x).dataSync())).toEqual(want);
    expect(want.some((v, i) => v === 0 && (dy.dataSync()[i] ?? 0) !== 0)).toBe(true); // the mask did something
    tf.dispose([x, dy]);
  });
});

describe('max pool forward', () => {
  const cases: [number, number, 'same' | 'valid'][] = [[2, 2, 'valid'], [2, 2, 'same'], [3, 2, 'same'], [3, 1, 'same'], [3, 2, 'valid']];
  for (const [k, s, pad] of cases) for (const c of [3, 9]) {
    it(`k=${k} stride=${s} ${pad} channels=${c} equals cpu`, async () => {
      const shape = [2, 9, 7, c];
      const x = rand(shape, 7 + c, true);
      const want = await onCpu(() => tf.maxPool(rand(shape, 7 + c, true) as tf.Tensor4D, k, s, pad));
      expect(direct((e, a) => maxPool(e, a!, k, s, pad), x)).toEqual(want);
      expect(plusZero(tf.maxPool(x as tf.Tensor4D, k, s, pad).dataSync())).toEqual(want);
      x.dispose();
    });
  }
});

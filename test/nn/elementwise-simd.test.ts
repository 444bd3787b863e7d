/**
 * The one-pass SIMD elementwise kernels of the training-kernel pack (src/nn/kernels/elementwise.ts):
 * called directly on the wasm heap and through tfjs ops, against the cpu backend. Sizes are above
 * the pack's stock-kernel threshold and include channel counts that are not multiples of 4.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend.js';
import { batchNorm, binary, reluGrad, simdCalls } from '../../src/nn/kernels/elementwise.js';
import { maxPool } from '../../src/nn/kernels/pool.js';
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
      expect(direct((e, p, q) => binary(e, 'Add', p!, q!), x, b)).toEqual(want);
      expect(direct((e, p, q) => binary(e, 'Add', p!, q!), b, x)).toEqual(want);
      const before = simdCalls.binary;
      expect(plusZero(tf.add(x, b).dataSync())).toEqual(want);
      expect(simdCalls.binary).toBe(before + 1);
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

describe('sub, multiply and divide with a per-channel vector or a scalar', () => {
  const ops = { Sub: tf.sub, Multiply: tf.mul, RealDiv: tf.div } as const;
  for (const [name, f] of Object.entries(ops)) {
    for (const [small, label] of [[[7], '[7]'], [[1, 1, 1, 7], '[1,1,1,7]'], [[], 'scalar'], [[1], '[1]']] as const) {
      it(`${name} with ${label}, both operand orders, equals cpu`, async () => {
        const big = [6, 13, 11, 7]; // 6,006 elements: SIMD body + channel tail
        const v = () => (small.length === 0 ? tf.scalar(1.75) : tf.add(tf.abs(rand([...small], 11)), 0.5)); // no division by 0
        for (const vFirst of [false, true]) {
          const want = await onCpu(() => (vFirst ? f(v(), rand(big, 10)) : f(rand(big, 10), v())));
          const x = rand(big, 10);
          const s = v();
          const before = simdCalls.binary;
          expect(plusZero((vFirst ? f(s, x) : f(x, s)).dataSync())).toEqual(want);
          expect(simdCalls.binary).toBe(before + 1); // the one-pass kernel ran, not the stock one
          expect(direct((e, p, q) => binary(e, name as 'Sub', p!, q!), ...(vFirst ? [s, x] : [x, s]))).toEqual(want);
          tf.dispose([x, s]);
        }
      });
    }
  }
});

describe('batch norm', () => {
  it('FusedBatchNorm with per-channel statistics equals cpu within 1e-6, with and without scale/offset', async () => {
    const C = 10;
    const args = () => ({
      x: rand([6, 9, 9, C], 20), // 4,860 elements: above the stock-kernel threshold
      mean: rand([C], 21),
      variance: tf.add(tf.abs(rand([C], 22)), 0.1),
      scale: rand([C], 23),
      offset: rand([C], 24),
    });
    for (const full of [true, false]) {
      const run = () => {
        const a = args();
        return full ? tf.batchNorm(a.x, a.mean, a.variance, a.offset, a.scale, 1e-3) : tf.batchNorm(a.x, a.mean, a.variance, undefined, undefined, 1e-3);
      };
      const want = await onCpu(run);
      const before = simdCalls.batchNorm;
      const got = plusZero(run().dataSync());
      expect(simdCalls.batchNorm).toBe(before + 1);
      let err = 0;
      for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
      expect(err).toBeLessThan(1e-5);
      const a = args();
      const d = direct((e, x, m, v, g, o) => batchNorm(e, x!, m!, v!, g, o, 1e-3), a.x, a.mean, a.variance, a.scale, a.offset);
      if (full) for (let i = 0; i < d.length; i++) expect(Math.abs(d[i]! - want[i]!)).toBeLessThan(1e-5);
    }
  });

  it('a batch-norm layer trains on wasm with the gradients of cpu (1e-4)', async () => {
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const layer = tf.layers.batchNormalization({ axis: -1, epsilon: 1e-5 });
        const x = rand([8, 6, 6, 12], 30);
        layer.apply(x, { training: true }); // builds gamma/beta
        const r = rand([8, 6, 6, 12], 31);
        const f = (a: tf.Tensor) => tf.sum(tf.mul(layer.apply(a, { training: true }) as tf.Tensor, r));
        const { value, grads: g } = tf.variableGrads(() => f(x) as tf.Scalar);
        const dx = tf.grad(f)(x);
        return [value.dataSync()[0]!, ...Object.values(g).map((t) => Array.from(t.dataSync())), Array.from(dx.dataSync())];
      });
    };
    const want = await grads('cpu');
    const got = await grads('wasm');
    expect(Math.abs((got[0] as number) - (want[0] as number))).toBeLessThan(1e-3);
    for (let k = 1; k < want.length; k++) {
      const w = want[k] as number[];
      const g = got[k] as number[];
      const scale = Math.max(...w.map(Math.abs));
      const err = Math.max(...w.map((v, i) => Math.abs(v - g[i]!)));
      expect(err / scale).toBeLessThan(1e-4);
    }
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

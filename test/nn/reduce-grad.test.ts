/**
 * Sum and Mean gradients (src/nn/kernels/reduce.ts, registered for every backend): dy broadcast
 * back over the reduced axes, the same values as tfjs's own (which multiplies by a full-size array
 * of ones built in JavaScript), on wasm and cpu.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend.js';
import { meanGradConfig, sumGradConfig } from '../../src/nn/kernels/reduce.js';
import { Rng } from '../../src/util/rng.js';
import { randn } from '../helpers/arrays.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const shape = [3, 5, 4, 6];
const cases: [number | number[] | undefined, boolean][] = [[[0, 1, 2], false], [[0, 1, 2], true], [1, false], [-1, true], [undefined, false], [[0, 3], false]];

/** d sum(reduce(x) * r) / dx, expected: r broadcast back over the reduced axes (/ n for mean). */
function expected(kind: 'sum' | 'mean', axis: number | number[] | undefined, r: Float32Array): Float32Array {
  const axes = tf.util.parseAxisParam((axis ?? null) as number[], shape);
  const n = axes.reduce((a, i) => a * shape[i]!, 1);
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const idx = [0, 0, 0, 0];
  for (let k = 0; k < out.length; k++) {
    let rem = k;
    for (let i = 3; i >= 0; i--) {
      idx[i] = rem % shape[i]!;
      rem = Math.floor(rem / shape[i]!);
    }
    let j = 0;
    for (let i = 0; i < 4; i++) j = j * outShape[i]! + (axes.includes(i) ? 0 : idx[i]!);
    out[k] = kind === 'mean' ? Math.fround(r[j]! / n) : r[j]!;
  }
  return out;
}

describe('Sum and Mean gradients', () => {
  it('are the registered ones', () => {
    expect(tf.getGradient('Sum')).toBe(sumGradConfig);
    expect(tf.getGradient('Mean')).toBe(meanGradConfig);
  });
  for (const backend of ['wasm', 'cpu']) {
    for (const [axis, keepDims] of cases) {
      it(`${backend}: axis ${JSON.stringify(axis)} keepDims ${keepDims} equal dy broadcast back (/ n for mean)`, async () => {
        await tf.setBackend(backend);
        const rng = new Rng(5);
        const x = tf.tensor(randn(rng, 360), shape);
        for (const kind of ['sum', 'mean'] as const) {
          const f = (a: tf.Tensor) => (kind === 'sum' ? tf.sum(a, axis, keepDims) : tf.mean(a, axis, keepDims));
          const outShape = f(x).shape;
          const r = randn(rng, outShape.reduce((a, b) => a * b, 1));
          const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), tf.tensor(r, outShape))))(x);
          expect(g.shape).toEqual(shape);
          expect(Array.from(g.dataSync())).toEqual(Array.from(expected(kind, axis, r)));
          g.dispose();
        }
        x.dispose();
        await tf.setBackend('wasm');
      });
    }
  }
});

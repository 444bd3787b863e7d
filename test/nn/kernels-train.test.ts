/**
 * Every op of the search spaces trains on wasm with the training-kernel pack: a tiny model's loss
 * decreases on a learnable toy task (seeded data and initialisers).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend.js';
import { Rng } from '../../src/util/rng.js';

const B = 32;
const seedInit = (seed: number) => ({
  kernelInitializer: tf.initializers.glorotUniform({ seed }),
});

/** Regression target: a fixed random linear map of the input plus a nonlinearity. */
function toyData(shape: number[], seed: number): { x: tf.Tensor; y: tf.Tensor } {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const per = n / shape[0]!;
  const xs = new Float32Array(n);
  for (let i = 0; i < n; i++) xs[i] = rng.normal();
  const w = Float32Array.from({ length: per }, () => rng.normal() / Math.sqrt(per));
  const ys = new Float32Array(shape[0]!);
  for (let b = 0; b < shape[0]!; b++) {
    let s = 0;
    for (let j = 0; j < per; j++) s += xs[b * per + j]! * w[j]!;
    ys[b] = Math.tanh(2 * s);
  }
  return { x: tf.tensor(xs, shape), y: tf.tensor(ys, [shape[0]!, 1]) };
}

function trainLosses(layers: tf.layers.Layer[], inShape: number[], steps = 25, lr = 1e-2): number[] {
  const model = tf.sequential();
  for (const l of layers) model.add(l);
  if (inShape.length > 1) model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 1, ...seedInit(99) }));
  model.build([null, ...inShape]);
  const { x, y } = toyData([B, ...inShape], 3);
  const opt = tf.train.adam(lr);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const l = tf.tidy(() =>
      opt.minimize(() => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!
        .dataSync()[0]!,
    );
    losses.push(l);
  }
  model.dispose();
  opt.dispose();
  tf.dispose([x, y]);
  return losses;
}

function expectLearns(losses: number[]): void {
  expect(losses.every(Number.isFinite)).toBe(true);
  const first = losses[0]!;
  const last = Math.min(...losses.slice(-3));
  expect(last, `loss ${first} -> ${last}`).toBeLessThan(0.5 * first);
}

beforeAll(async () => {
  expect(await initBackend({ backend: 'wasm' })).toBe('wasm');
});

describe('tiny models train on wasm with the pack', () => {
  for (const k of [1, 3, 5]) {
    for (const s of [1, 2]) {
      it(`conv ${k}x${k} stride ${s}`, () => {
        expect(tf.getBackend()).toBe('wasm');
        expectLearns(trainLosses(
          [tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: k, strides: s, padding: 'same', activation: 'relu', ...seedInit(k * 10 + s) })],
          [8, 8, 2]));
      });
    }
  }
  it('depthwise conv 3x3', () => {
    expectLearns(trainLosses(
      [tf.layers.depthwiseConv2d({ inputShape: [8, 8, 2], kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'relu', depthwiseInitializer: tf.initializers.glorotUniform({ seed: 5 }) })],
      [8, 8, 2]));
  });
  it('separable conv 3x3 stride 2', () => {
    expectLearns(trainLosses(
      [tf.layers.separableConv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu',
        depthwiseInitializer: tf.initializers.glorotUniform({ seed: 6 }), pointwiseInitializer: tf.initializers.glorotUniform({ seed: 7 }) })],
      [8, 8, 2]));
  });
  it('max pool (after a linear conv, so window maxima can be negative)', () => {
    expectLearns(trainLosses(
      [tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, padding: 'same', ...seedInit(8) }),
        tf.layers.maxPooling2d({ poolSize: 2 })],
      [8, 8, 2]));
  });
  for (const pad of ['same', 'valid'] as const) {
    it(`avg pool 3x3 ${pad}`, () => {
      expectLearns(trainLosses(
        [tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, padding: 'same', ...seedInit(9) }),
          tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: pad })],
        [8, 8, 2]));
    });
  }
  it('batch norm', () => {
    expectLearns(trainLosses(
      [tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, padding: 'same', ...seedInit(10) }),
        tf.layers.batchNormalization({}), tf.layers.activation({ activation: 'relu' })],
      [8, 8, 2]));
  });
  it('dense', () => {
    expectLearns(trainLosses(
      [tf.layers.dense({ inputShape: [20], units: 16, activation: 'relu', ...seedInit(11) })],
      [20]));
  });
  it('no tensor or wasm buffer leaks across training steps (the pack frees its intermediates)', () => {
    const model = tf.sequential();
    model.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', ...seedInit(12) }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: tf.initializers.glorotUniform({ seed: 13 }) }));
    model.add(tf.layers.batchNormalization({}));
    model.add(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 1, ...seedInit(14) }));
    const { x, y } = toyData([B, 8, 8, 1], 4);
    const opt = tf.train.adam(1e-2);
    const step = () => tf.tidy(() => {
      opt.minimize(() => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    });
    for (let i = 0; i < 3; i++) step();
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const tensors = tf.memory().numTensors;
    const buffers = backend.numDataIds();
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(buffers);
    model.dispose();
    opt.dispose();
    tf.dispose([x, y]);
  });
});

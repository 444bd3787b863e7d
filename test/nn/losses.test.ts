/**
 * The fused softmax cross-entropy (src/nn/losses.ts + the 'TsnasSoftmaxXent' kernel on wasm) against
 * tfjs's tf.losses.softmaxCrossEntropy on the cpu backend: value and gradients, one-hot and soft
 * labels, no leaked tensors; the cpu backend keeps tfjs's own loss.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend.js';
import { SOFTMAX_XENT_KERNEL } from '../../src/nn/kernels/loss.js';
import { softmaxCrossEntropy } from '../../src/nn/losses.js';
import { Rng } from '../../src/util/rng.js';

function data(B: number, K: number, soft: boolean, seed: number): { logits: Float32Array; labels: Float32Array } {
  const rng = new Rng(seed);
  const logits = Float32Array.from({ length: B * K }, () => 4 * rng.normal());
  const labels = new Float32Array(B * K);
  for (let r = 0; r < B; r++) {
    if (soft) {
      let s = 0;
      for (let k = 0; k < K; k++) s += labels[r * K + k] = rng.random();
      for (let k = 0; k < K; k++) labels[r * K + k]! /= s;
    } else labels[r * K + rng.int(0, K - 1)] = 1;
  }
  return { logits, labels };
}

/** Loss and d loss / d logits with `loss(labels, logits)` on `backend`. */
async function run(backend: string, loss: (y: tf.Tensor, x: tf.Tensor) => tf.Scalar, d: ReturnType<typeof data>, shape: number[]) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor(d.logits, shape);
    const y = tf.tensor(d.labels, shape);
    const value = loss(y, x).dataSync()[0]!;
    // Through a scale in front of the logits too (a gradient that flows on past the loss).
    const grad = tf.grad((s: tf.Tensor) => loss(y, tf.mul(x, s)))(tf.scalar(1.5)).dataSync()[0]!;
    const g = tf.grad((l: tf.Tensor) => loss(y, l))(x).dataSync() as Float32Array;
    return { value, grad, g };
  });
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('fused softmax cross-entropy', () => {
  for (const [B, K, soft] of [[37, 10, false], [128, 10, false], [5, 3, true]] as const) {
    it(`B=${B} K=${K} ${soft ? 'soft' : 'one-hot'} labels: value and gradients equal tfjs's on cpu`, async () => {
      const d = data(B, K, soft, B + K);
      const want = await run('cpu', (y, x) => tf.losses.softmaxCrossEntropy(y, x) as tf.Scalar, d, [B, K]);
      const got = await run('wasm', softmaxCrossEntropy, d, [B, K]);
      expect(Math.abs(got.value - want.value) / want.value).toBeLessThan(1e-6);
      expect(Math.abs(got.grad - want.grad) / Math.abs(want.grad)).toBeLessThan(1e-5);
      let err = 0;
      let scale = 0;
      for (let i = 0; i < got.g.length; i++) {
        err = Math.max(err, Math.abs(got.g[i]! - want.g[i]!));
        scale = Math.max(scale, Math.abs(want.g[i]!));
      }
      expect(err / scale).toBeLessThan(1e-6);
    });
  }

  it('runs as one kernel on wasm and leaks no tensor; cpu keeps tfjs own loss', async () => {
    await tf.setBackend('wasm');
    expect(tf.getKernel(SOFTMAX_XENT_KERNEL, 'wasm')).toBeDefined();
    const d = data(64, 10, false, 1);
    const x = tf.variable(tf.tensor(d.logits, [64, 10]));
    const y = tf.tensor(d.labels, [64, 10]);
    const opt = tf.train.sgd(0.1);
    const step = () => tf.tidy(() => opt.minimize(() => softmaxCrossEntropy(y, x), true)!.dataSync()[0]!);
    const first = step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    expect(step()).toBeLessThan(first); // it trains
    tf.dispose([x, y]);
    opt.dispose();
    await tf.setBackend('cpu');
    expect(tf.getKernel(SOFTMAX_XENT_KERNEL, 'cpu')).toBeUndefined();
    const want = await run('cpu', (yy, xx) => tf.losses.softmaxCrossEntropy(yy, xx) as tf.Scalar, d, [64, 10]);
    const got = await run('cpu', softmaxCrossEntropy, d, [64, 10]);
    expect(got.value).toBe(want.value);
    await tf.setBackend('wasm');
  });
});

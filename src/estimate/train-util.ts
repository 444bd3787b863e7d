/** Helpers of the training evaluator (src/estimate/train.ts): evaluation, optimizers, fidelity checks. */
import * as tf from '@tensorflow/tfjs';
import { type Dataset, sampleSize } from '../data/dataset.js';
import { fused } from '../nn/optimizers.js';
import type { Fidelity } from './fidelity.js';

export type OptimizerName = 'adam' | 'sgd' | 'momentum' | 'rmsprop';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['adam', 'sgd', 'momentum', 'rmsprop'];

export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function checkFidelity(f: Fidelity): void {
  const bad = (what: string) => {
    throw new Error(`fidelity: ${what}`);
  };
  if (!(Number.isInteger(f.epochs) && f.epochs! >= 1)) bad(`epochs must be an integer >= 1 (got ${f.epochs})`);
  if (!(f.dataFraction! > 0 && f.dataFraction! <= 1)) bad(`dataFraction must be in (0, 1] (got ${f.dataFraction})`);
  if (f.widthMultiplier !== undefined && !(f.widthMultiplier > 0)) bad(`widthMultiplier must be > 0 (got ${f.widthMultiplier})`);
  if (f.resolution !== undefined && !(Number.isInteger(f.resolution) && f.resolution >= 1)) {
    bad(`resolution must be an integer >= 1 (got ${f.resolution})`);
  }
  if (f.cells !== undefined && !(Number.isInteger(f.cells) && f.cells >= 1)) bad(`cells must be an integer >= 1 (got ${f.cells})`);
}

/**
 * Changes an optimizer's learning rate between steps: sgd/momentum cache it as a scalar
 * (setLearningRate renews that); adam and rmsprop read their (protected) learningRate field per step.
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

export function makeOptimizer(name: OptimizerName, lr: number): tf.Optimizer {
  switch (name) {
    // tf.train.* (same classes, state and bits), one fused SIMD pass per variable on wasm
    case 'adam':
      return fused.adam(lr);
    case 'sgd':
      return fused.sgd(lr);
    case 'momentum':
      return fused.momentum(lr, 0.9);
    case 'rmsprop':
      return fused.rmsprop(lr);
  }
}

/** Accuracy (classification) or -MSE (regression) of the model on a dataset, inference mode. */
export function evaluateModel(model: tf.LayersModel, ds: Dataset, batchSize: number, sample: () => void): number {
  const n = ds.y.length;
  const size = sampleSize(ds);
  let correct = 0;
  let sq = 0;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const out = tf.tidy((): tf.Tensor => {
      const x = tf.tensor(ds.x.subarray(start * size, end * size), [end - start, ...ds.shape]);
      const y = model.apply(x, { training: false }) as tf.Tensor;
      return ds.task === 'classification' ? tf.argMax(y, -1) : tf.reshape(y, [-1]);
    });
    sample();
    const v = out.dataSync();
    out.dispose();
    for (let j = 0; j < end - start; j++) {
      if (ds.task === 'classification') correct += v[j] === ds.y[start + j] ? 1 : 0;
      else sq += (v[j]! - ds.y[start + j]!) ** 2;
    }
  }
  return ds.task === 'classification' ? correct / n : -(sq / n);
}

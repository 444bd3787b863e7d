/** Mini-batches as tensors, shared by the training loop (src/estimate) and data-parallel replicas (nn/parallel). */
import * as tf from '@tensorflow/tfjs';
import { type Dataset, sampleSize } from '../data/dataset.js';

/** Features and targets of samples order[start..end) as tensors (one-hot float targets for classification). */
export function makeBatch(ds: Dataset, order: ArrayLike<number>, start: number, end: number): [tf.Tensor, tf.Tensor] {
  const size = sampleSize(ds);
  const b = end - start;
  const x = new Float32Array(b * size);
  const k = ds.task === 'classification' ? ds.numClasses : 1;
  const y = new Float32Array(b * k);
  for (let j = 0; j < b; j++) {
    const i = order[start + j]!;
    x.set(ds.x.subarray(i * size, (i + 1) * size), j * size);
    if (ds.task === 'classification') y[j * k + ds.y[i]!] = 1;
    else y[j] = ds.y[i]!;
  }
  return [tf.tensor(x, [b, ...ds.shape]), tf.tensor(y, [b, k])];
}

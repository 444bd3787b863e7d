/**
 * The training losses of tsnas's training steps (src/estimate/train-step.ts, src/nn/parallel).
 * Classification: the batch mean of softmax cross-entropy, as tf.losses.softmaxCrossEntropy (default
 * reduction), computed by one fused kernel where the training-kernel pack provides it (wasm) and by
 * tfjs's own composition elsewhere. Regression: mean squared error.
 */
import * as tf from '@tensorflow/tfjs';
import { SOFTMAX_XENT_KERNEL } from './kernels/loss.js';

const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [logits, labels, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const [loss, grad] = tf.engine().runKernel(SOFTMAX_XENT_KERNEL, { logits, labels }) as tf.Tensor[];
  save([grad!]);
  return {
    value: loss!,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const dLogits = tf.mul(saved[0]!, dy as tf.Tensor);
      // tfjs's own gradient for the labels (nobody trains them; kept for parity).
      return [dLogits, tf.neg(dLogits)];
    },
  };
});

/** Mean softmax cross-entropy of `logits` [B, K] against one-hot (or soft) `labels` [B, K]. */
export function softmaxCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  const canFuse =
    logits.rank === 2 && logits.dtype === 'float32' && labels.dtype === 'float32' &&
    tf.util.arraysEqual(labels.shape, logits.shape) && tf.getKernel(SOFTMAX_XENT_KERNEL, tf.getBackend()) !== undefined;
  return (canFuse ? fused(logits, labels) : tf.losses.softmaxCrossEntropy(labels, logits)) as tf.Scalar;
}

/** The loss of a training batch: softmax cross-entropy (classification) or mean squared error. */
export function trainingLoss(task: 'classification' | 'regression', labels: tf.Tensor, out: tf.Tensor): tf.Scalar {
  return task === 'classification' ? softmaxCrossEntropy(labels, out) : (tf.losses.meanSquaredError(labels, out) as tf.Scalar);
}

/**
 * The mean softmax cross-entropy of a batch of logits [B, K] against label distributions [B, K] and
 * its gradient with respect to the logits, (softmax(logits) - labels) / B, in one kernel
 * ('TsnasSoftmaxXent', wasm): tfjs's own loss is ~15 small kernels (logSumExp, sub, mul, sum, mean,
 * and as many in its gradient), each costing more in dispatch than its arithmetic at K ~ 10. Float64
 * arithmetic over the heap views, rounded once to float32.
 */
import type * as tf from '@tensorflow/tfjs';

export const SOFTMAX_XENT_KERNEL = 'TsnasSoftmaxXent';

interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

export function softmaxXentKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: SOFTMAX_XENT_KERNEL,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { logits, labels } = inputs as { logits: tf.TensorInfo; labels: tf.TensorInfo };
      const b = backend as unknown as HeapBackend;
      const [B, K] = logits.shape as [number, number];
      const loss = b.makeOutput([], 'float32');
      const grad = b.makeOutput([B, K], 'float32');
      // Views after the allocations (a heap growth detaches older ones).
      const x = b.typedArrayFromHeap(logits);
      const y = b.typedArrayFromHeap(labels);
      const g = b.typedArrayFromHeap(grad);
      let total = 0;
      for (let r = 0, o = 0; r < B; r++, o += K) {
        let m = -Infinity;
        for (let k = 0; k < K; k++) m = Math.max(m, x[o + k]!);
        let s = 0;
        for (let k = 0; k < K; k++) s += Math.exp(x[o + k]! - m);
        const lse = m + Math.log(s);
        for (let k = 0; k < K; k++) {
          const t = y[o + k]!;
          total += t * (lse - x[o + k]!);
          g[o + k] = (Math.exp(x[o + k]! - lse) - t) / B;
        }
      }
      b.typedArrayFromHeap(loss)[0] = total / B;
      return [loss, grad];
    },
  };
}

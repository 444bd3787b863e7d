/**
 * tfjs layers for the IR's primitive ops (src/space/arch/graph.ts). One `applyOp` per node; the
 * mapping is 1:1 with what src/nn/cost.ts counts (conv/sepconv/dense kernels and biases, batch-norm
 * gamma/beta trainable and moving mean/variance non-trainable).
 */
import * as tf from '@tensorflow/tfjs';
import type { OpSpec } from '../space/arch/graph.js';

/** Outputs zeros of its input's shape: the 'none' op. Keeps the edge (and its producers) in the model. */
export class ZeroLayer extends tf.layers.Layer {
  static className = 'TsnasZero';
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.zerosLike(Array.isArray(inputs) ? inputs[0]! : inputs));
  }
}
tf.serialization.registerClass(ZeroLayer);

/** Batch-norm settings matching PyTorch's defaults (momentum 0.1 there, epsilon 1e-5). */
export const BN_MOMENTUM = 0.9;
export const BN_EPSILON = 1e-5;

type Sym = tf.SymbolicTensor;

/** Applies op `op` to `x` as layer(s) named from `name`; identity returns `x` itself. */
export function applyOp(op: OpSpec, x: Sym, name: string): Sym {
  const one = (l: tf.layers.Layer) => l.apply(x) as Sym;
  switch (op.type) {
    case 'conv':
      return one(
        tf.layers.conv2d({
          name,
          filters: op.filters,
          kernelSize: op.kernel,
          strides: op.stride ?? 1,
          padding: op.padding ?? 'same',
          useBias: op.bias ?? false,
          kernelInitializer: 'heNormal',
        }),
      );
    case 'sepconv':
      return one(
        tf.layers.separableConv2d({
          name,
          filters: op.filters,
          kernelSize: op.kernel,
          strides: op.stride ?? 1,
          padding: op.padding ?? 'same',
          depthMultiplier: 1,
          useBias: op.bias ?? false,
        }),
      );
    case 'dense':
      return one(tf.layers.dense({ name, units: op.units, useBias: op.bias ?? true }));
    case 'bn':
      return one(tf.layers.batchNormalization({ name, axis: -1, momentum: BN_MOMENTUM, epsilon: BN_EPSILON }));
    case 'act':
      return one(tf.layers.activation({ name, activation: op.fn }));
    case 'pool': {
      const args = { name, poolSize: op.size, strides: op.stride ?? op.size, padding: op.padding ?? 'same' } as const;
      return one(op.mode === 'max' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args));
    }
    case 'gap':
      return one(tf.layers.globalAveragePooling2d({ name }));
    case 'flatten':
      return one(tf.layers.flatten({ name }));
    case 'dropout':
      return one(tf.layers.dropout({ name, rate: op.rate }));
    case 'identity':
      return x;
    case 'zero':
      return one(new ZeroLayer({ name }));
    case 'shift': {
      const c = tf.layers.cropping2D({ name: `${name}_crop`, cropping: [[1, 0], [1, 0]] }).apply(x) as Sym;
      return tf.layers.zeroPadding2d({ name: `${name}_pad`, padding: [[0, 1], [0, 1]] }).apply(c) as Sym;
    }
  }
}

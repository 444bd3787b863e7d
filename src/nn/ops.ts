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

/**
 * Average pooling with TF 'same' padding that excludes the padding, computed as a 'valid' pool of
 * the zero-padded input divided by the same pool of padded ones. Same values as
 * tf.layers.averagePooling2d({ padding: 'same' }), but a correct gradient: tfjs 4.22's AvgPoolGrad
 * with 'same' padding is wrong at the borders on both cpu and wasm (0.444 where 0.694 is right).
 */
export class AvgPoolSameLayer extends tf.layers.Layer {
  static className = 'TsnasAvgPoolSame';
  readonly poolSize: number;
  readonly strides: number;
  constructor(args: { poolSize: number; strides: number; name?: string }) {
    super({ name: args.name });
    this.poolSize = args.poolSize;
    this.strides = args.strides;
  }
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const out = (d: number | null) => (d === null ? null : Math.ceil(d / this.strides));
    return [s[0]!, out(s[1]!), out(s[2]!), s[3]!];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      const [, h, w] = x.shape;
      const pads: [number, number][] = [[0, 0], samePad(h, this.poolSize, this.strides), samePad(w, this.poolSize, this.strides), [0, 0]];
      const num = tf.avgPool(tf.pad(x, pads), this.poolSize, this.strides, 'valid');
      const den = tf.avgPool(tf.pad(tf.ones([1, h, w, 1]), pads) as tf.Tensor4D, this.poolSize, this.strides, 'valid');
      return tf.div(num, den);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides };
  }
}
tf.serialization.registerClass(AvgPoolSameLayer);

/** TF 'same' padding (before, after) along one axis. */
export function samePad(size: number, k: number, s: number): [number, number] {
  const total = Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Batch-norm settings matching PyTorch's defaults (momentum 0.1 there, epsilon 1e-5). */
export const BN_MOMENTUM = 0.9;
export const BN_EPSILON = 1e-5;

type Sym = tf.SymbolicTensor;

/**
 * Applies op `op` to `x` as layer(s) named from `name`; identity returns `x` itself. `relu` folds a
 * following relu into a conv/sepconv/dense layer (its `activation`), see foldedRelus in builder.ts.
 */
export function applyOp(op: OpSpec, x: Sym, name: string, relu = false): Sym {
  const activation = relu ? 'relu' : undefined;
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
          activation,
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
          activation,
        }),
      );
    case 'dense':
      return one(tf.layers.dense({ name, units: op.units, useBias: op.bias ?? true, activation }));
    case 'bn':
      return one(tf.layers.batchNormalization({ name, axis: -1, momentum: BN_MOMENTUM, epsilon: BN_EPSILON }));
    case 'act':
      return one(tf.layers.activation({ name, activation: op.fn }));
    case 'pool': {
      const args = { name, poolSize: op.size, strides: op.stride ?? op.size, padding: op.padding ?? 'same' } as const;
      if (op.mode === 'max') return one(tf.layers.maxPooling2d(args));
      return one(args.padding === 'same' ? new AvgPoolSameLayer(args) : tf.layers.averagePooling2d(args));
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

/**
 * One replica of a data-parallel training run (src/nn/parallel/trainer.ts): the model and what every
 * replica does, on the main thread and in each worker alike:
 *   - the gradient of the mean loss over one shard of a batch, flattened into a Float32Array
 *     (trainable variables in `model.trainableWeights` order);
 *   - loading the trainable weights from the flat shared weights (after each update);
 *   - reading and writing the non-trainable weights (batch-norm moving statistics), flattened.
 */
import * as tf from '@tensorflow/tfjs';
import { type Dataset } from '../../data/dataset.js';
import { makeBatch } from '../batch.js';
import { trainingLoss } from '../losses.js';
import { withSeededMathRandom, type Rng } from '../../util/rng.js';

interface HeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

function heapBackend(t: tf.Tensor): HeapBackend | null {
  const b = tf.engine().backend as unknown as Partial<HeapBackend>;
  return t.dtype === 'float32' && tf.getBackend() === 'wasm' && b.typedArrayFromHeap && b.makeOutput ? (b as HeapBackend) : null;
}

/** A float32 tensor's data as a view of the wasm heap (no copy); null elsewhere. */
function heapView(t: tf.Tensor): Float32Array | null {
  return heapBackend(t)?.typedArrayFromHeap(t) ?? null;
}

/**
 * A new tensor of `v`'s shape holding `src` (copied once: on wasm straight into a fresh heap buffer).
 *
 * Never write a variable's buffer in place: tfjs's wasm backend keys XNNPACK operators (stock
 * Conv2D with other than 3x3 filters, depthwise convolutions, PReLU, ...) by the tensor id of their
 * weights and packs the weights once per id, so a convolution whose filter was overwritten in place
 * keeps computing with the weights it first saw. Data-parallel training did that (issue 19): the
 * forward passes of such layers ran on their initial filters for the whole run while their weights
 * changed, and a model rebuilt from the checkpoint (sharing the ids) predicted with the stale ones
 * in the same process but not after export. A new tensor is a new id; the old one is freed, which
 * drops its operators.
 */
function freshTensor(v: tf.Variable, src: Float32Array): tf.Tensor {
  const b = heapBackend(v);
  if (!b) return tf.tensor(src.slice(), v.shape); // a copy: some backends keep the array they were given
  const info = b.makeOutput(v.shape, 'float32');
  b.typedArrayFromHeap(info).set(src);
  return tf.engine().makeTensorFromTensorInfo(info);
}

export class Replica {
  readonly vars: tf.Variable[];
  /** Number of trainable values (length of a flat gradient). */
  readonly size: number;

  constructor(
    readonly model: tf.LayersModel,
    private readonly task: Dataset['task'],
  ) {
    this.vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.size = this.vars.reduce((a, v) => a + v.size, 0);
  }

  /**
   * Writes the gradient of the mean loss over samples order[start..end) of `data` into `out` and
   * returns that mean loss. `rng` drives dropout (Math.random, as in the single-thread path).
   */
  shardGradient(data: Dataset, order: ArrayLike<number>, start: number, end: number, rng: Rng, out: Float32Array): number {
    const [xb, yb] = makeBatch(data, order, start, end);
    try {
      const { value, grads } = withSeededMathRandom(rng, () =>
        tf.tidy(() =>
          tf.variableGrads(() => {
            const y = this.model.apply(xb, { training: true }) as tf.Tensor;
            return trainingLoss(this.task, yb, y);
          }, this.vars),
        ),
      );
      try {
        let off = 0;
        for (const v of this.vars) {
          out.set(heapView(grads[v.name]!) ?? (grads[v.name]!.dataSync() as Float32Array), off);
          off += v.size;
        }
        return value.dataSync()[0]!;
      } finally {
        tf.dispose([value, ...Object.values(grads)]);
      }
    } finally {
      xb.dispose();
      yb.dispose();
    }
  }

  /** The trainable weights, flattened (`vars` order). */
  readTrainable(out: Float32Array): void {
    let off = 0;
    for (const v of this.vars) {
      out.set(v.dataSync() as Float32Array, off);
      off += v.size;
    }
  }

  /** Sets the trainable weights from the flat array `w` (`vars` order), each variable a new tensor (see freshTensor). */
  loadTrainable(w: Float32Array): void {
    let off = 0;
    for (const v of this.vars) {
      const t = freshTensor(v, w.subarray(off, off + v.size));
      v.assign(t);
      t.dispose();
      off += v.size;
    }
  }

  /** The non-trainable weights (batch-norm moving statistics), flattened. */
  readStats(): Float32Array {
    const ws = this.model.nonTrainableWeights;
    const out = new Float32Array(ws.reduce((a, w) => a + w.read().size, 0));
    let off = 0;
    for (const w of ws) {
      const d = w.read().dataSync() as Float32Array;
      out.set(d, off);
      off += d.length;
    }
    return out;
  }

  writeStats(flat: Float32Array): void {
    let off = 0;
    for (const w of this.model.nonTrainableWeights) {
      const t = w.read();
      tf.tidy(() => {
        w.write(tf.tensor(flat.slice(off, off + t.size), t.shape));
      });
      off += t.size;
    }
  }

  /** Every weight (trainable and not), flattened, in getWeights() order (for tests). */
  readWeights(): Float32Array[] {
    return this.model.getWeights().map((w) => w.dataSync() as Float32Array);
  }
}

/** The optimizer's current learning rate (every tfjs optimizer keeps it in `learningRate`). */
export function getLr(optimizer: tf.Optimizer): number {
  return (optimizer as unknown as { learningRate: number }).learningRate;
}

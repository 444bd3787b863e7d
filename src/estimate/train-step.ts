/**
 * The training step of the evaluator (src/estimate/train.ts), behind one interface: `LocalStepper`
 * on the calling thread, or the data-parallel `ParallelTrainer` (src/nn/parallel) with the same
 * methods. Also the checkpoint hand-over (weights + optimizer state) of a run.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { trainingLoss } from '../nn/losses.js';
import { makeBatch } from '../nn/batch.js';
import { Rng, withSeededMathRandom } from '../util/rng.js';

/** What the epoch loop drives: ParallelTrainer implements it too. */
export interface Stepper {
  /** Starts an epoch: the sample order of its batches and the epoch's dropout stream. */
  epoch(epoch: number, order: ArrayLike<number>): void;
  /** One optimizer step on samples order[start..end); returns the batch's mean loss. */
  step(start: number, end: number): Promise<number>;
  /** End of an epoch: replicas agree on statistics and the optimizer holds its state. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** One thread: the tfjs optimizer minimizes the batch loss of the caller's model. */
export class LocalStepper implements Stepper {
  private readonly vars: tf.Variable[];
  private order: ArrayLike<number> = [];
  private rng: Rng;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly optimizer: tf.Optimizer,
    private readonly data: Dataset,
    private readonly seed: number,
  ) {
    this.vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.rng = Rng.derive(seed, 'dropout', 0);
  }

  epoch(epoch: number, order: ArrayLike<number>): void {
    this.order = order;
    // Per-epoch streams: training resumed from a checkpoint after epoch k equals training straight through.
    this.rng = Rng.derive(this.seed, 'dropout', epoch);
  }

  async step(start: number, end: number): Promise<number> {
    const [xb, yb] = makeBatch(this.data, this.order, start, end);
    try {
      const loss = withSeededMathRandom(this.rng, () =>
        tf.tidy(
          () =>
            this.optimizer.minimize(() => {
              const out = this.model.apply(xb, { training: true }) as tf.Tensor;
              return trainingLoss(this.data.task, yb, out);
            }, true, this.vars) as tf.Scalar,
        ),
      );
      const v = loss.dataSync()[0]!;
      loss.dispose();
      return v;
    } finally {
      xb.dispose();
      yb.dispose();
    }
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {}
}

/** A training run's state after some epochs, to resume from (tensors owned by the checkpoint). */
export interface Checkpoint {
  epochs: number;
  weights: tf.Tensor[];
  optimizer: { name: string; tensor: tf.Tensor }[];
}

export function disposeCheckpoint(c: Checkpoint): void {
  tf.dispose(c.weights);
  tf.dispose(c.optimizer.map((w) => w.tensor));
}

/** Copies the model's weights and the optimizer's state after `epochs` epochs. */
export async function takeCheckpoint(model: tf.LayersModel, optimizer: tf.Optimizer, epochs: number): Promise<Checkpoint> {
  const state = await optimizer.getWeights();
  const checkpoint: Checkpoint = {
    epochs,
    weights: model.getWeights().map((w) => w.clone()),
    optimizer: state.map((w) => ({ name: w.name, tensor: w.tensor.clone() })),
  };
  // getWeights returns the optimizer's variables and a fresh iteration-count scalar: free the latter.
  tf.dispose(state.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
  return checkpoint;
}

/** Loads a checkpoint into a freshly built model and optimizer (the checkpoint stays usable). */
export async function restoreCheckpoint(model: tf.LayersModel, optimizer: tf.Optimizer, from: Checkpoint): Promise<void> {
  model.setWeights(from.weights);
  // setWeights makes variables from these (sharing their data) and keeps none of the tensors: free them.
  const state = from.optimizer.map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
  try {
    await optimizer.setWeights(state);
  } finally {
    tf.dispose(state.map((w) => w.tensor));
  }
}

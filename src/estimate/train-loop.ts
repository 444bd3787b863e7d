/**
 * The epoch loop of the training evaluator (src/estimate/train.ts): per epoch, the seeded shuffle,
 * the batches through a `Stepper` (one thread or data-parallel; cosine learning rate per batch),
 * the validation pass, the trial report and the pruning check. Stops inside an epoch when the trial
 * is asked to stop or the deadline passes (keeping the weights), and after the epoch at the deadline.
 */
import type * as tf from '@tensorflow/tfjs';
import { TrialPruned, type Trial } from '../core/trial.js';
import type { Dataset } from '../data/dataset.js';
import { Rng } from '../util/rng.js';
import type { MemoryMeter } from './train-cost.js';
import type { Stepper } from './train-step.js';
import { evaluateModel, setLearningRate, yieldToEventLoop } from './train-util.js';

export interface EpochInfo {
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Validation metric after the epoch (accuracy, or -MSE for regression). */
  value: number;
  /** Test metric after the epoch (only with `testEachEpoch` and a test set). */
  test?: number;
  /** Learning rate of the epoch's first batch. */
  lr: number;
  seconds: number;
  samplesPerSecond: number;
}

/** Train/val/test sets of a run (fidelity's data fraction and resolution applied). */
export interface Prepared {
  train: Dataset;
  val: Dataset;
  test?: Dataset;
}

/** The evaluator's settings the loop reads. */
export interface LoopSettings {
  batchSize: number;
  lr: number;
  lrSchedule: 'constant' | 'cosine';
  seed: number;
  evalBatchSize: number;
  testEachEpoch: boolean;
}

/** One run: its model, optimizer, stepper and data, and where its epochs start and end. */
export interface LoopRun {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  stepper: Stepper;
  data: Prepared;
  /** First epoch to train (1-based; later when resuming) and the last. */
  firstEpoch: number;
  lastEpoch: number;
  /** Horizon of the cosine schedule in epochs (>= lastEpoch): the learning rate reaches 0 there. */
  scheduleEpochs: number;
  memory: MemoryMeter;
  trial?: Trial;
  /** Date.now() ms: training stops after the batch that passes it. */
  deadline?: number;
  onEpoch?: (e: EpochInfo) => void;
  /** Records the trial's attrs before it is pruned. */
  beforePrune: (progress: LoopProgress) => void;
}

/** What the loop has done so far (training steps only in `seen` and `seconds`). */
export interface LoopProgress {
  epochs: EpochInfo[];
  seen: number;
  seconds: number;
}

/** Trains epochs firstEpoch..lastEpoch; throws TrialPruned when the trial's pruner says so. */
export async function runEpochs(s: LoopSettings, r: LoopRun): Promise<LoopProgress> {
  const progress: LoopProgress = { epochs: [], seen: 0, seconds: 0 };
  const { trial } = r;
  for (let epoch = r.firstEpoch; epoch <= r.lastEpoch; epoch++) {
    const e0 = performance.now();
    const lr = learningRate(s, epoch, 0, r.scheduleEpochs);
    const { loss, count } = await trainEpoch(s, r, epoch, progress);
    const trainDt = (performance.now() - e0) / 1000;
    progress.seconds += trainDt;
    if (!Number.isFinite(loss)) {
      throw new Error(`training diverged: loss ${loss} in epoch ${epoch} (lower the learning rate)`);
    }
    await r.stepper.sync();
    const value = evaluateModel(r.model, r.data.val, s.evalBatchSize, r.memory.sample);
    const info: EpochInfo = {
      epoch,
      loss,
      value,
      lr,
      seconds: (performance.now() - e0) / 1000,
      samplesPerSecond: count / trainDt,
    };
    if (s.testEachEpoch && r.data.test) info.test = evaluateModel(r.model, r.data.test, s.evalBatchSize, r.memory.sample);
    progress.epochs.push(info);
    r.onEpoch?.(info);
    if (trial) {
      trial.costExtra.peakMemoryBytes = r.memory.peak();
      trial.report(value, epoch);
      if (trial.shouldPrune()) {
        r.beforePrune(progress);
        throw new TrialPruned(`pruned after epoch ${epoch} (validation ${value.toFixed(4)})`);
      }
    }
    if (r.deadline !== undefined && Date.now() >= r.deadline) break;
    await yieldToEventLoop();
  }
  return progress;
}

/**
 * The learning rate at a fraction of an epoch: constant, or cosine from lr to 0 over `horizon`
 * epochs. It depends on the horizon, not on the epochs a run trains, so a run resumed after epoch k
 * with the same horizon continues the schedule of a run trained straight through.
 */
export function learningRate(s: Pick<LoopSettings, 'lr' | 'lrSchedule'>, epoch: number, fraction: number, horizon: number): number {
  if (s.lrSchedule !== 'cosine') return s.lr;
  return 0.5 * s.lr * (1 + Math.cos((Math.PI * (epoch - 1 + fraction)) / horizon));
}

/** One epoch's optimizer steps; returns the mean batch loss and the samples it trained on. */
async function trainEpoch(s: LoopSettings, r: LoopRun, epoch: number, progress: LoopProgress): Promise<{ loss: number; count: number }> {
  const n = r.data.train.y.length;
  r.stepper.epoch(epoch, Rng.derive(s.seed, 'shuffle', epoch).shuffle(Array.from({ length: n }, (_, i) => i)));
  let lossSum = 0;
  let lossCount = 0;
  for (let start = 0; start < n; ) {
    let end = Math.min(n, start + s.batchSize);
    // A last batch of one sample would break batch norm's variance: fold it into this one.
    if (n - end === 1) end = n;
    if (s.lrSchedule === 'cosine') setLearningRate(r.optimizer, learningRate(s, epoch, start / n, r.scheduleEpochs));
    const v = await r.stepper.step(start, end);
    r.memory.sample();
    lossSum += v * (end - start);
    lossCount += end - start;
    progress.seen += end - start;
    start = end;
    if (r.trial?.signal.aborted || (r.deadline !== undefined && Date.now() >= r.deadline)) break;
    await yieldToEventLoop();
  }
  return { loss: lossSum / Math.max(1, lossCount), count: lossCount };
}

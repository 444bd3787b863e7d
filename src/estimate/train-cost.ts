/**
 * Cost accounting of a training run (src/estimate/train.ts): FLOPs, parameters and backend on the
 * trial, and peak memory as the larger of tfjs' tensor bytes and the process RSS growth, both
 * sampled after every batch and evaluation batch.
 */
import * as tf from '@tensorflow/tfjs';
import type { Trial } from '../core/trial.js';
import type { Cost } from '../nn/cost.js';

export class MemoryMeter {
  private readonly rssStart = process.memoryUsage.rss();
  private peakTf = tf.memory().numBytes;
  private peakRss = this.rssStart;

  /** Takes a sample (a callback: evaluateModel calls it per batch). */
  readonly sample = (): void => {
    this.peakTf = Math.max(this.peakTf, tf.memory().numBytes);
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
  };

  /** Peak bytes so far. */
  peak(): number {
    return Math.max(this.peakTf, this.peakRss - this.rssStart);
  }
}

/** The graph's cost and the backend, on the trial's cost record. */
export function recordGraphCost(trial: Trial, cost: Cost, backend: string): void {
  trial.costExtra.flops = cost.flops;
  trial.costExtra.params = cost.totalParams;
  trial.costExtra.backend = backend;
}

/**
 * The training evaluator as a job objective for the multi-fidelity schedulers (Hyperband,
 * successive halving, ASHA, BOHB in src/strategy/schedulers), with budgets in epochs:
 *
 *   const jobs = trainingJobObjective(ev);
 *   await exp.optimize(hyperband.wrap(jobs.objective));
 *   jobs.dispose();
 *
 * A job trains to `job.budget` epochs and reports every epoch (the last report is at step
 * job.budget, as the schedulers require). A promoted job continues from its parent's checkpoint
 * (weights, batch-norm statistics and optimizer state) when this process trained the parent and the
 * checkpoint is still kept (the last `maxCheckpoints` jobs); otherwise it retrains from scratch.
 * Both give the same model as training straight to the budget (per-epoch seeded streams), so the
 * result does not depend on which process ran the parent.
 */
import type { Trial } from '../core/trial.js';
import { type Checkpoint, disposeCheckpoint, type TrainingEvaluator, type TrainResult } from './train.js';

export interface JobLike {
  budget: number;
  previousBudget: number;
  parent: number | null;
}

export interface TrainingJobObjective {
  objective: (trial: Trial, job: JobLike) => Promise<number>;
  /** Checkpoints kept, by trial number. */
  readonly kept: ReadonlyMap<number, Checkpoint>;
  /** Frees every kept checkpoint. */
  dispose(): void;
}

export interface TrainingJobOptions {
  /** Checkpoints kept (default 8). */
  maxCheckpoints?: number;
  /** Evaluate the test set after the job (TrainResult.test) when this says so. */
  test?: (job: JobLike) => boolean;
  /** The job's value from its training result (default: the validation metric, r.value). */
  value?: (r: TrainResult, trial: Trial, job: JobLike) => number;
}

export function trainingJobObjective(ev: TrainingEvaluator, opts: TrainingJobOptions = {}): TrainingJobObjective {
  const max = opts.maxCheckpoints ?? 8;
  const kept = new Map<number, Checkpoint>();
  const objective = async (trial: Trial, job: JobLike): Promise<number> => {
    const epochs = Math.round(job.budget);
    if (!(epochs >= 1 && Math.abs(epochs - job.budget) < 1e-9)) {
      throw new Error(`training job objective: budgets are epochs (whole numbers >= 1); got ${job.budget}`);
    }
    const f = ev.resolve({ epochs });
    trial.setAttr('fidelity', f);
    const parent = job.parent !== null ? kept.get(job.parent) : undefined;
    const resume = parent && parent.epochs < epochs ? parent : undefined;
    if (resume) trial.setAttr('resumedFrom', { trial: job.parent, epochs: resume.epochs });
    const r = await ev.train(trial.params, f, { trial, resume, checkpoint: max > 0, test: opts.test?.(job) });
    if (r.checkpoint) {
      kept.set(trial.number, r.checkpoint);
      for (const [number, c] of kept) {
        if (kept.size <= max) break;
        disposeCheckpoint(c);
        kept.delete(number);
      }
    }
    return opts.value ? opts.value(r, trial, job) : r.value;
  };
  return {
    objective,
    kept,
    dispose() {
      for (const c of kept.values()) disposeCheckpoint(c);
      kept.clear();
    },
  };
}

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
 * Every job of a cosine evaluator trains on one schedule whose horizon is `scheduleEpochs` (default:
 * the evaluator's epochs, the scheduler's largest budget as `tsnas search` sets it up), as the
 * Hyperband/ASHA papers' and Ray Tune's checkpointed trials do: a 1-epoch job is epoch 1 of a
 * 10-epoch run, and its promotion trains epochs 2..3 at the same rates as that run. Resumed or
 * retrained, a job therefore gives the same model as one run trained straight to its budget
 * (per-epoch seeded streams), whichever process ran the parent. `scheduleEpochs: 'job'` instead
 * anneals each job over its own budget (a promoted job restarts the schedule).
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
  /**
   * Horizon of the cosine schedule in epochs (default: the evaluator's epochs; a job with a larger
   * budget uses its own), or 'job': each job anneals over its own budget.
   */
  scheduleEpochs?: number | 'job';
}

export function trainingJobObjective(ev: TrainingEvaluator, opts: TrainingJobOptions = {}): TrainingJobObjective {
  const max = opts.maxCheckpoints ?? 8;
  const kept = new Map<number, Checkpoint>();
  const horizon = opts.scheduleEpochs ?? ev.fidelity.epochs!;
  if (horizon !== 'job' && !(Number.isInteger(horizon) && horizon >= 1)) {
    throw new Error(`training job objective: scheduleEpochs must be a whole number >= 1 or 'job'; got ${horizon}`);
  }
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
    const scheduleEpochs = horizon === 'job' ? epochs : Math.max(horizon, epochs);
    const r = await ev.train(trial.params, f, { trial, resume, checkpoint: max > 0, test: opts.test?.(job), scheduleEpochs });
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

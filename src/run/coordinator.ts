/**
 * The run layer's entry to the one trial loop (core/loop.ts): an experiment on a pool or BullMQ
 * executor, with the objective spec every job carries.
 */
import type { Experiment } from '../core/experiment.js';
import type { RunOptions as LoopOptions } from '../core/loop.js';
import type { TrialRecord } from '../core/store.js';
import type { ObjectiveSpec } from './objective-spec.js';
import type { Executor } from './types.js';

export interface RunOptions extends Omit<LoopOptions<ObjectiveSpec>, 'objective' | 'catchErrors'> {
  objective: ObjectiveSpec;
}

/** Runs the experiment on `executor` until a stop condition holds and nothing is in flight. Returns the trials it recorded. */
export function runWithExecutor(exp: Experiment, executor: Executor, opts: RunOptions): Promise<TrialRecord[]> {
  return exp.run(executor, opts);
}

/**
 * Early stopping of running trials. A pruner (median rule, learning-curve extrapolation) or a
 * multi-fidelity scheduler (successive halving, Hyperband, ASHA) looks at a running trial's
 * intermediate values and the history and says whether to stop it. Like strategies, pruners are
 * functions of the stored history, so they work the same across processes and machines.
 */
import type { Direction, TrialRecord } from './store.js';

export interface PruneContext {
  trial: TrialRecord;
  history: readonly TrialRecord[];
  directions: readonly Direction[];
}

export interface Pruner {
  readonly name: string;
  shouldPrune(ctx: PruneContext): boolean;
}

export class NopPruner implements Pruner {
  readonly name = 'none';
  shouldPrune(): boolean {
    return false;
  }
}

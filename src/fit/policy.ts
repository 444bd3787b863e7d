/**
 * How `fit` spends a budget: which space, strategy and fidelities it searches with, and how it
 * retrains the winner, chosen from a profile of the data. The rules are data (a FitPlan) so they
 * are documented, printed with every fit, and overridable field by field.
 *
 * STUB (interface agreed between the fit helpers; the rules themselves land with the measured recipe).
 */
import type { Fidelity } from '../estimate/fidelity.js';
import type { OptimizerName } from '../estimate/train-util.js';

export interface DataProfile {
  kind: 'image' | 'tabular';
  task: 'classification' | 'regression';
  /** Shape of one input after preprocessing, e.g. [28, 28, 1] or [4]. */
  inputShape: number[];
  /** Classes (classification) or 1 (regression). */
  numClasses: number;
  /** Rows/images available for training (train part, before the validation split is taken out). */
  trainSize: number;
}

export interface FitBudget {
  /** Wall-clock seconds for the whole fit (search + final retraining + export). */
  seconds?: number;
  /** Number of search trials (when no time budget is given). */
  trials?: number;
}

export interface FitOverrides {
  space?: 'auto' | 'chain' | 'dag' | 'cell';
  strategy?: string;
}

export interface FitPlan {
  space: 'chain' | 'dag' | 'cell';
  strategy: string;
  strategyOptions?: Record<string, unknown>;
  /** Fidelity of each search trial (lower than the final one: subset, resolution, width, epochs). */
  searchFidelity: Fidelity;
  /** Fraction of the time budget given to the search; the rest is the final retraining. */
  searchShare: number;
  /** Fidelity of the final retraining on train+validation (epochs are an upper bound under a time budget). */
  finalFidelity: Fidelity;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number;
  lrSchedule: 'constant' | 'cosine';
  /** Early stopping of search trials. */
  earlyStopping: 'none' | 'median' | 'lc';
  /** Trials to run when the budget is a trial count (or a cap under a time budget). */
  maxTrials?: number;
  /** One line per rule that fired, printed with the fit and stored in the report. */
  reasons: string[];
}

export function planFit(profile: DataProfile, budget: FitBudget, overrides: FitOverrides = {}): FitPlan {
  const image = profile.kind === 'image';
  const space = overrides.space && overrides.space !== 'auto' ? overrides.space : image ? 'cell' : 'chain';
  const strategy = overrides.strategy && overrides.strategy !== 'auto' ? overrides.strategy : 'tpe';
  return {
    space,
    strategy,
    searchFidelity: { epochs: 2, dataFraction: image ? 0.1 : 1 },
    searchShare: 0.5,
    finalFidelity: { epochs: image ? 5 : 50, dataFraction: 1 },
    batchSize: image ? 64 : 32,
    optimizer: 'adam',
    lr: 1e-3,
    lrSchedule: 'cosine',
    earlyStopping: 'none',
    maxTrials: budget.trials,
    reasons: ['stub plan'],
  };
}

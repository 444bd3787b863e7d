/** tsnas library API. */
export { Experiment, bestOf, isDone, simulatedSpent } from './core/experiment.js';
export type { Objective, ObjectiveResult, ExperimentOptions, OptimizeOptions, TellOptions } from './core/experiment.js';
export { Trial, TrialPruned } from './core/trial.js';
export { paretoFront, nonDominatedSort, dominates, crowdingDistance } from './core/pareto.js';
export * from './space/params.js';
export * from './space/nb201.js';
export * from './store/index.js';
export * from './strategy/index.js';
export * from './estimate/pruner.js';
export * from './estimate/fidelity.js';
export { Nb201Evaluator, loadNb201Table, readNb201Csv, resolveNb201Dir, DataDirError } from './estimate/nb201.js';
export type { Nb201Answer, Nb201Dataset, Nb201Epochs, Nb201Options, Nb201Row } from './estimate/nb201.js';
export { Rng } from './util/rng.js';
export * from './estimate/schedulers/index.js';
export * from './estimate/lc/index.js';
export { MedianPruner, type MedianPrunerOptions } from './estimate/median.js';
export * from './run/index.js';
export * from './data/index.js';
export { writeReport } from './report/index.js';
export { ARCH_SPACES } from './space/arch/index.js';
export type { ArchSpace, DecodeOpts } from './space/arch/index.js';
/**
 * Modules that load TensorFlow.js are imported on demand, so `import 'tsnas'` stays light:
 * `tsnas/train` (TrainingEvaluator), `tsnas/backend` (initBackend), `tsnas/morphism` (weight inheritance),
 * `tsnas/fit` (end-to-end AutoML: fit, loadModel, predict helpers).
 */
export type { FitOptions, FitResult, FitProgress, FitSummary, FitTest } from './fit/fit.js';
export type { FitPlan, DataProfile } from './fit/policy.js';

/** End-to-end AutoML (see `tsnas/fit`); TensorFlow.js is loaded on the first call. */
export async function fit(options: import('./fit/fit.js').FitOptions): Promise<import('./fit/fit.js').FitResult> {
  return (await import('./fit/fit.js')).fit(options);
}

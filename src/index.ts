/** tsnas library API. */
import { requirePeers } from './util/peer.js';
export { Experiment, bestOf, isDone, simulatedSpent } from './core/experiment.js';
export type { Objective, ObjectiveResult, ExperimentOptions, OptimizeOptions, TellOptions, AskOptions } from './core/experiment.js';
export { Trial, TrialPruned, TrialSkipped } from './core/trial.js';
export type { TrialSink, TrialInit } from './core/sink.js';
export { paretoFront, nonDominatedSort, dominates, crowdingDistance } from './core/pareto.js';
export * from './space/params.js';
export * from './space/grid.js';
export * from './space/nb201.js';
export * from './store/index.js';
export * from './strategy/index.js';
export * from './core/pruner.js';
export * from './core/strategy.js';
export { SearchExhausted } from './core/errors.js';
export * from './estimate/fidelity.js';
export { Nb201Evaluator, loadNb201Table, readNb201Csv, resolveNb201Dir, DataDirError } from './estimate/nb201.js';
export type { Nb201Answer, Nb201Dataset, Nb201Epochs, Nb201Options, Nb201Row } from './estimate/nb201.js';
export { Rng } from './util/rng.js';
export * from './strategy/schedulers/index.js';
export * from './estimate/lc/index.js';
export * from './estimate/pruners/index.js';
export * from './run/index.js';
export * from './data/index.js';
export { writeReport } from './report/index.js';
// Architecture spaces: the built-in ones, their constructors, and GraphBuilder for a space of your own blocks.
export {
  ARCH_SPACES, GraphBuilder, GraphError, checkGraph, chainSpace, chainFlatSpace, dagSpace, cellSpace, nb201ArchSpace,
  makeChainArchSpace, makeDagArchSpace, makeCellArchSpace, CHAIN_IMAGE_OPS, CHAIN_FLAT_OPS, DAG_OPS, CELL_OPS,
} from './space/arch/index.js';
export type { ArchSpace, DecodeOpts, ArchGraph, ArchNode, OpSpec, Activation, Shape } from './space/arch/index.js';
export { countCost, type Cost } from './nn/cost.js';
export { MissingPeerError, missingPeers } from './util/peer.js';
/**
 * Modules that load TensorFlow.js (a peer dependency) are imported on demand, so `import 'tsnas'`
 * stays light: `tsnas/nas` (buildModel, TrainingEvaluator, saveBestModel), `tsnas/train`,
 * `tsnas/backend` (initBackend), `tsnas/morphism` (weight inheritance), `tsnas/fit` (end-to-end
 * AutoML: fit, loadModel, predict helpers).
 */
export type { FitOptions, FitResult, FitProgress, FitSummary, FitTest } from './fit/fit.js';
export type { FitPlan, DataProfile } from './fit/policy.js';

/** End-to-end AutoML (see `tsnas/fit`); TensorFlow.js is loaded on the first call. */
export async function fit(options: import('./fit/fit.js').FitOptions): Promise<import('./fit/fit.js').FitResult> {
  requirePeers();
  return (await import('./fit/fit.js')).fit(options);
}

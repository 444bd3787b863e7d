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
export { Nb201Evaluator, loadNb201Table, resolveNb201Dir, DataDirError } from './estimate/nb201.js';
export type { Nb201Answer, Nb201Dataset, Nb201Epochs, Nb201Options, Nb201Row } from './estimate/nb201.js';
export { Rng } from './util/rng.js';

/** Learning-curve extrapolation: parametric families, LM fitting, the BIC-weighted ensemble and its stop rule. */
export * from './families.js';
export { levenbergMarquardt, type LmResult, type Model } from './lm.js';
export { CurveEnsemble, fitFamily, type EnsembleOptions, type LcPrediction, type Member } from './ensemble.js';
export { LcPruner, type LcDecision, type LcPrunerOptions } from './pruner.js';

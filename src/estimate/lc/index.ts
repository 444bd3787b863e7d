/** Learning-curve extrapolation: parametric families, LM fitting, the BIC-weighted ensemble (its stop rule is estimate/pruners/lc.ts). */
export * from './families.js';
export { levenbergMarquardt, type LmResult, type Model } from './lm.js';
export { CurveEnsemble, fitFamily, type EnsembleOptions, type LcPrediction, type Member } from './ensemble.js';

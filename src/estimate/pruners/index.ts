/**
 * Pruners: stop a running trial early from its intermediate values and the stored history
 * (the contract is core/pruner.ts). Median rule, learning-curve extrapolation, stopping-variant ASHA.
 */
export { MedianPruner, median, valueAtStep, type MedianPrunerOptions } from './median.js';
export { LcPruner, type LcDecision, type LcPrunerOptions } from './lc.js';
export { AshaPruner, type AshaPrunerOptions } from './asha.js';

/** Multi-fidelity schedulers: bracket arithmetic, successive halving, Hyperband, ASHA, BOHB. */
export * from './brackets.js';
export * from './job.js';
export { Hyperband, SuccessiveHalving, type HyperbandOptions } from './hyperband.js';
export { Asha } from './asha.js';
export { Bohb, type BohbOptions } from './bohb.js';

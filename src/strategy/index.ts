/** Strategy registry: name -> factory. Every strategy works on every space. */
import { GridStrategy } from './grid.js';
import { RandomStrategy } from './random.js';
import { BoStrategy } from './bo.js';
import { TpeStrategy } from './tpe.js';
import { EvolutionStrategy } from './evolution.js';
import { ReinforceStrategy } from './reinforce.js';
import type { Strategy } from '../core/strategy.js';
import { strategyOptionsProblem } from './options.js';
import { Asha, Bohb, Hyperband, SuccessiveHalving, type BohbOptions, type HyperbandOptions } from './schedulers/index.js';

export { GridStrategy } from './grid.js';
export { RandomStrategy } from './random.js';
export { BoStrategy, type BoOptions } from './bo.js';
export { TpeStrategy, type TpeOptions } from './tpe.js';
export { EvolutionStrategy, replayPopulation, type EvolutionOptions } from './evolution.js';
export * as mutation from './mutation.js';
export { ReinforceStrategy, type ReinforceOptions } from './reinforce.js';

export class UnknownStrategyError extends Error {
  override name = 'UnknownStrategyError';
}

/** Strategy options that cannot work (bad budgets, eta, model); the message names the option. */
export class StrategyOptionsError extends Error {
  override name = 'StrategyOptionsError';
  readonly userError = true;
}

/**
 * Multi-fidelity schedulers (src/strategy/schedulers): each trial is a job at a budget (epochs, ...),
 * stored in its system attrs (`system.job`); run them with a job objective (`scheduler.wrap`, or the 'jobs' objective spec).
 * Options: budgets (increasing list) or minBudget/maxBudget (integer: true rounds them), eta; sh: n0;
 * bohb: model ('tpe' | 'bo'), randomFraction, minPoints.
 */
export const SCHEDULER_STRATEGIES = ['sh', 'hyperband', 'asha', 'bohb'] as const;

function scheduler(name: string, make: (o: BohbOptions) => Strategy) {
  return (o: Record<string, unknown>): Strategy => {
    try {
      return make(o as BohbOptions);
    } catch (e) {
      if (e instanceof RangeError) throw new StrategyOptionsError(`${name} options: ${e.message}`);
      throw e;
    }
  };
}

type Factory = (options: Record<string, unknown>) => Strategy;

const registry = new Map<string, Factory>([
  ['random', (o) => new RandomStrategy(o)],
  ['grid', (o) => new GridStrategy(o)],
  ['tpe', (o) => new TpeStrategy(o)],
  ['bo', (o) => new BoStrategy(o)],
  ['evolution', (o) => new EvolutionStrategy(o)],
  ['reinforce', (o) => new ReinforceStrategy(o)],
  ['sh', scheduler('sh', (o: HyperbandOptions) => new SuccessiveHalving(o))],
  ['hyperband', scheduler('hyperband', (o: HyperbandOptions) => new Hyperband(o))],
  ['asha', scheduler('asha', (o) => new Asha(o))],
  ['bohb', scheduler('bohb', (o) => new Bohb(o))],
]);

export function registerStrategy(name: string, factory: Factory): void {
  registry.set(name, factory);
}

export function strategyNames(): string[] {
  return [...registry.keys()];
}

export function createStrategy(name: string, options: Record<string, unknown> = {}): Strategy {
  const f = registry.get(name);
  if (!f) throw new UnknownStrategyError(`unknown strategy "${name}"; choose one of: ${strategyNames().join(', ')}`);
  const problem = strategyOptionsProblem(name, options);
  if (problem) throw new StrategyOptionsError(problem);
  return f(options);
}

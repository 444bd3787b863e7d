/** Strategy registry: name -> factory. Every strategy works on every space. */
import { GridStrategy } from './grid.js';
import { RandomStrategy } from './random.js';
import { BoStrategy } from './bo.js';
import { TpeStrategy } from './tpe.js';
import { EvolutionStrategy } from './evolution.js';
import { ReinforceStrategy } from './reinforce.js';
import type { Strategy } from './types.js';

export * from './types.js';
export { GridStrategy, GridExhausted } from './grid.js';
export { RandomStrategy } from './random.js';
export { BoStrategy, type BoOptions } from './bo.js';
export { TpeStrategy, type TpeOptions } from './tpe.js';
export { EvolutionStrategy, replayPopulation, type EvolutionOptions } from './evolution.js';
export * as mutation from './mutation.js';
export { ReinforceStrategy, type ReinforceOptions } from './reinforce.js';

export class UnknownStrategyError extends Error {
  override name = 'UnknownStrategyError';
}

type Factory = (options: Record<string, unknown>) => Strategy;

const registry = new Map<string, Factory>([
  ['random', (o) => new RandomStrategy(o)],
  ['grid', (o) => new GridStrategy(o)],
  ['tpe', (o) => new TpeStrategy(o)],
  ['bo', (o) => new BoStrategy(o)],
  ['evolution', (o) => new EvolutionStrategy(o)],
  ['reinforce', (o) => new ReinforceStrategy(o)],
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
  return f(options);
}

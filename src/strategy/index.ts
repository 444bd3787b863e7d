/** Strategy registry: name -> factory. Every strategy works on every space. */
import { GridStrategy } from './grid.js';
import { RandomStrategy } from './random.js';
import { EvolutionStrategy } from './evolution.js';
import type { Strategy } from './types.js';

export * from './types.js';
export { GridStrategy, GridExhausted } from './grid.js';
export { RandomStrategy } from './random.js';
export { EvolutionStrategy, replayPopulation, type EvolutionOptions } from './evolution.js';
export * as mutation from './mutation.js';

export class UnknownStrategyError extends Error {
  override name = 'UnknownStrategyError';
}

type Factory = (options: Record<string, unknown>) => Strategy;

const registry = new Map<string, Factory>([
  ['random', (o) => new RandomStrategy(o)],
  ['grid', (o) => new GridStrategy(o)],
  ['evolution', (o) => new EvolutionStrategy(o)],
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

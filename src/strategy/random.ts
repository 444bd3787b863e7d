/** Random search: each active parameter drawn uniformly (log-uniformly where `log`), seeded. */
import { paramsKey, sampleSpace, type Params } from '../space/params.js';
import type { Strategy, StrategyContext } from '../core/strategy.js';

export interface RandomOptions {
  /** Skip configurations already in the history (retrying up to `maxRetries` draws). Default true. */
  dedupe?: boolean;
  maxRetries?: number;
}

export function seenKeys(ctx: StrategyContext): Set<string> {
  const seen = new Set<string>();
  for (const t of ctx.history) if (t.number !== ctx.trialNumber) seen.add(paramsKey(t.params));
  return seen;
}

export class RandomStrategy implements Strategy {
  readonly name = 'random';
  constructor(private readonly opts: RandomOptions = {}) {}

  ask(ctx: StrategyContext): Params {
    if (!ctx.space) return {};
    let p = sampleSpace(ctx.space, ctx.rng);
    if (this.opts.dedupe === false) return p;
    const seen = seenKeys(ctx);
    for (let i = 0; i < (this.opts.maxRetries ?? 100) && seen.has(paramsKey(p)); i++) p = sampleSpace(ctx.space, ctx.rng);
    return p;
  }
}

/**
 * Proxy warm-up (Abdelfattah et al. 2021, "warmup"): before a search trains anything, score many
 * sampled candidates by a zero-cost proxy and propose them best-first; after `warmup` trials hand
 * over to the inner strategy (evolution then starts from a population of proxy-picked, trained
 * networks; random search goes on at random). Deterministic in (seed, history) like every strategy:
 * the candidate pool is drawn from the experiment's seed and its scores are cached per process.
 */
import { paramsKey, sampleSpace, type Params } from '../../space/params.js';
import { RandomStrategy } from '../../strategy/random.js';
import type { Strategy, StrategyContext } from '../../core/strategy.js';
import { Rng } from '../../util/rng.js';

export interface ProxyWarmStartOptions {
  /** Proxy score of a configuration, larger is better (a ProxyEvaluator's `score`, a table lookup, ...). */
  score: (params: Params) => number | Promise<number>;
  /** Candidates drawn (distinct where the space allows) and scored once. Default 100. */
  candidates?: number;
  /** Trials proposed from the proxy ranking before the inner strategy takes over. Default 10. */
  warmup?: number;
  /** Strategy after the warm-up. Default random search. */
  inner?: Strategy;
  /** Called once with the pool's scoring cost (e.g. to charge it to a simulated clock). */
  onScored?: (info: { candidates: number; seconds: number }) => void;
}

export function proxyWarmStart(o: ProxyWarmStartOptions): Strategy {
  const inner: Strategy = o.inner ?? new RandomStrategy();
  let pool: { seed: number; ranked: Params[] } | null = null;
  const ranking = async (ctx: StrategyContext): Promise<Params[]> => {
    if (pool?.seed === ctx.seed) return pool.ranked;
    const rng = Rng.derive(ctx.seed, 'proxy-warmup');
    const seen = new Set<string>();
    const cands: Params[] = [];
    const n = o.candidates ?? 100;
    for (let tries = 0; cands.length < n && tries < 20 * n; tries++) {
      const p = sampleSpace(ctx.space!, rng);
      const k = paramsKey(p);
      if (!seen.has(k)) {
        seen.add(k);
        cands.push(p);
      }
    }
    const t0 = performance.now();
    const scored: [Params, number][] = [];
    for (const p of cands) scored.push([p, await o.score(p)]);
    o.onScored?.({ candidates: cands.length, seconds: (performance.now() - t0) / 1000 });
    // NaN scores (a proxy undefined on a network) rank last; ties keep the draw order.
    scored.sort((a, b) => (Number.isNaN(b[1]) ? -Infinity : b[1]) - (Number.isNaN(a[1]) ? -Infinity : a[1]));
    pool = { seed: ctx.seed, ranked: scored.map(([p]) => p) };
    return pool.ranked;
  };
  return {
    name: `proxy-warmstart+${inner.name}`,
    async ask(ctx) {
      if (ctx.space && ctx.trialNumber < (o.warmup ?? 10)) {
        const taken = new Set(ctx.history.filter((t) => t.number !== ctx.trialNumber).map((t) => paramsKey(t.params)));
        const next = (await ranking(ctx)).find((p) => !taken.has(paramsKey(p)));
        if (next) return { ...next };
      }
      return inner.ask(ctx);
    },
    sampleParam: inner.sampleParam?.bind(inner),
    tell: inner.tell?.bind(inner),
  };
}

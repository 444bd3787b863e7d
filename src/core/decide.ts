/** Pieces of an ask's decision that need no experiment state: the inferred space, completing a proposal, remote proposals. */
import { isActive, sampleSpec, validateParams, type ParamSpec, type Params, type SearchSpace } from '../space/params.js';
import type { TrialRecord } from './store.js';
import type { Strategy, StrategyContext } from './strategy.js';
import type { Rng } from '../util/rng.js';
import type { DynamicProposal } from './executor.js';

/** For define-by-run objectives: the parameters (with one spec) every COMPLETE trial shares, or null. */
export function commonSpace(history: readonly TrialRecord[]): SearchSpace | null {
  let common: Record<string, ParamSpec> | null = null;
  for (const t of history) {
    if (t.state !== 'COMPLETE') continue;
    if (common === null) {
      common = { ...t.distributions };
      continue;
    }
    for (const [k, spec] of Object.entries(common)) {
      const other = t.distributions[k];
      if (!other || JSON.stringify(other) !== JSON.stringify(spec)) delete common[k];
    }
  }
  return common && Object.keys(common).length > 0 ? { params: common } : null;
}

/** A declared space's active parameters: `given` where it has them, else drawn from `rng`; checked (`what` names the source in errors). */
export function completeParams(space: SearchSpace, given: Params, rng: Rng, what: string): { params: Params; specs: Record<string, ParamSpec> } {
  const params: Params = {};
  const specs: Record<string, ParamSpec> = {};
  for (const [name, spec] of Object.entries(space.params)) {
    if (!isActive(spec, params)) continue;
    params[name] = name in given ? given[name]! : sampleSpec(spec, rng);
    specs[name] = spec;
  }
  validateParams(space, params, what);
  return { params, specs };
}

/**
 * For a trial that runs away from the strategy: its `sampleParam` value for every define-by-run
 * parameter the finished trials used (under the newest spec) that `proposed` does not cover. The
 * same history and seeds as an in-process suggestion, so the same values.
 */
export function dynamicProposals(strategy: Strategy, ctx: StrategyContext, proposed: Params): Record<string, DynamicProposal> | undefined {
  if (!strategy.sampleParam) return undefined;
  const seen = new Map<string, ParamSpec>();
  for (const t of ctx.history) {
    if (t.state !== 'COMPLETE' && t.state !== 'PRUNED') continue;
    for (const [name, spec] of Object.entries(t.distributions)) if (!(name in proposed)) seen.set(name, spec);
  }
  if (seen.size === 0) return undefined;
  const out: Record<string, DynamicProposal> = {};
  for (const [name, spec] of seen) out[name] = { spec, value: strategy.sampleParam(ctx, name, spec) };
  return out;
}

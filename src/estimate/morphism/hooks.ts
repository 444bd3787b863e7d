/**
 * The seam between weight inheritance and a training evaluator. A trainer that builds `model` from
 * `graph` calls `hook.init(ctx)` before its first step and `hook.save(ctx)` after its last one;
 * `morphismInheritance` implements both with an ArtifactStore:
 *
 * - save: the trained weights and the graph go to `trial-<number>/weights.bin` and `graph.json`;
 *   trial attr `weights` = 'trial-<number>' (so `nearestParent(..., (t) => !!t.attrs.weights)`).
 * - init: `parentOf(ctx)` names a finished trial (the strategy's parent, or `nearestParent` in the
 *   history); if it has stored weights, `inheritWeights(parentGraph, parentWeights, graph)` is
 *   written into the model and the report returned (and set as trial attr `inherit` when the
 *   context has a trial). No parent, or no stored weights: the model keeps its initialisation.
 */
import type * as tfType from '@tensorflow/tfjs';
import type { ArtifactStore } from '../../run/artifacts.js';
import type { ArchGraph } from '../../space/arch/graph.js';
import type { Params } from '../../space/params.js';
import type { TrialRecord } from '../../store/types.js';
import { type InheritOptions, inheritWeights } from './inherit.js';
import { loadTrialWeights, saveTrialWeights, trialKey } from './store.js';
import { readWeights, writeWeights } from './weights.js';

export interface WeightHookContext {
  /** Trial number (the artifact key); absent for runs outside an experiment. */
  trialNumber?: number;
  params: Params;
  graph: ArchGraph;
  model: tfType.LayersModel;
  /** Sets a trial attribute (e.g. `(k, v) => trial.setAttr(k, v)`). */
  setAttr?: (key: string, value: unknown) => void;
}

export interface InheritSummary {
  parent: number;
  functionPreserving: boolean;
  counts: Record<string, number>;
  nodes: { id: string; status: string; from?: string }[];
}

export interface WeightInitHook {
  init(ctx: WeightHookContext): Promise<InheritSummary | null>;
  save(ctx: WeightHookContext): Promise<void>;
}

export interface MorphismInheritanceOptions extends InheritOptions {
  store: ArtifactStore;
  /** The trial whose weights to start from, or null to start fresh. */
  parentOf: (ctx: WeightHookContext) => number | null | Promise<number | null>;
  tf: typeof tfType;
}

export function morphismInheritance(o: MorphismInheritanceOptions): WeightInitHook {
  return {
    async init(ctx) {
      const parent = await o.parentOf(ctx);
      if (parent === null || parent === ctx.trialNumber) return null;
      const stored = await loadTrialWeights(o.store, parent);
      if (!stored) return null;
      const r = inheritWeights(stored.graph, stored.weights, ctx.graph, { seed: o.seed ?? ctx.trialNumber ?? 0, split: o.split, stats: o.stats });
      writeWeights(ctx.model, ctx.graph, r.weights, o.tf);
      const counts: Record<string, number> = {};
      for (const n of r.nodes) counts[n.status] = (counts[n.status] ?? 0) + 1;
      const summary: InheritSummary = {
        parent,
        functionPreserving: r.functionPreserving,
        counts,
        nodes: r.nodes.map((n) => ({ id: n.id, status: n.status, ...(n.from && n.from !== n.id ? { from: n.from } : {}) })),
      };
      ctx.setAttr?.('inherit', summary);
      return summary;
    },
    async save(ctx) {
      if (ctx.trialNumber === undefined) return;
      await saveTrialWeights(o.store, ctx.trialNumber, ctx.graph, readWeights(ctx.model, ctx.graph));
      ctx.setAttr?.('weights', trialKey(ctx.trialNumber));
    },
  };
}

/**
 * The finished trial closest to `params` (fewest differing parameters, ties: the later trial),
 * among those before `trialNumber` that `has` (e.g. stored weights). For a child of regularized
 * evolution this is its parent or an equally close relative.
 */
export function nearestParent(
  history: readonly TrialRecord[],
  params: Params,
  trialNumber: number,
  has: (t: TrialRecord) => boolean = () => true,
): number | null {
  let best: TrialRecord | null = null;
  let bestD = Infinity;
  for (const t of history) {
    if (t.state !== 'COMPLETE' || t.number >= trialNumber || !has(t)) continue;
    const keys = new Set([...Object.keys(params), ...Object.keys(t.params)]);
    let d = 0;
    for (const k of keys) if (JSON.stringify(params[k]) !== JSON.stringify(t.params[k])) d++;
    if (d < bestD || (d === bestD && best && t.number > best.number)) {
      best = t;
      bestD = d;
    }
  }
  return best ? best.number : null;
}

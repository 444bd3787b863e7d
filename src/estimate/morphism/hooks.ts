/**
 * The seam between weight inheritance and a training evaluator. A trainer that builds `model` from
 * `graph` calls `hook.init(ctx)` before its first step and `hook.save(ctx)` after its last one
 * (TrainingEvaluator does with its `inherit` option); `morphismInheritance` implements both with an
 * ArtifactStore:
 *
 * - save: the trained weights and the graph go to `[experiment-<id>/]trial-<number>/weights.bin`
 *   and `graph.json`; trial attr `weights` = that key (so `nearestParent(..., hasStoredWeights)`).
 * - init: `parentOf(ctx)` names a finished trial (default `parentFromHistory`: the strategy's
 *   `parent` attr, else `nearestParent` in the history); if it has stored weights,
 *   `inheritWeights(parentGraph, parentWeights, graph)` is written into the model and the report
 *   returned (and set as trial attr `inherit` when the context has `setAttr`). No parent, or no
 *   stored weights: the model keeps its initialisation.
 */
import type * as tfType from '@tensorflow/tfjs';
import type { Trial } from '../../core/trial.js';
import type { ArtifactStore } from '../../store/artifacts.js';
import type { ArchGraph } from '../../space/arch/graph.js';
import type { Params } from '../../space/params.js';
import type { InheritRecord, SystemAttrs, TrialRecord } from '../../core/store.js';
import { type InheritOptions, inheritWeights } from './inherit.js';
import { loadTrialWeights, saveTrialWeights, trialKey } from './store.js';
import { readWeights, writeWeights } from './weights.js';

export interface WeightHookContext {
  /** Trial number (the artifact key); absent for runs outside an experiment. */
  trialNumber?: number;
  /** Experiment id: artifact keys are prefixed with `experiment-<id>/` when given (several experiments, one store). */
  experimentId?: number;
  /** The trial's attrs at start (a strategy's `parent`) and the experiment's trials, for `parentOf`. */
  attrs?: Readonly<Record<string, unknown>>;
  history?: readonly TrialRecord[];
  params: Params;
  graph: ArchGraph;
  model: tfType.LayersModel;
  /** Sets a trial attribute (e.g. `(k, v) => trial.setAttr(k, v)`). */
  setAttr?: (key: string, value: unknown) => void;
  /** Sets trial system attrs (the `inherit` summary; e.g. `(p) => trial.setSystem(p)`). */
  setSystem?: (patch: SystemAttrs) => void;
}

/** What `init` inherited (stored as `system.inherit`, with the trainer's startValue and seconds). */
export type InheritSummary = Omit<InheritRecord, 'startValue' | 'seconds'>;

export interface WeightInitHook {
  init(ctx: WeightHookContext): Promise<InheritSummary | null>;
  save(ctx: WeightHookContext): Promise<void>;
}

export interface MorphismInheritanceOptions extends InheritOptions {
  store: ArtifactStore;
  /** The trial whose weights to start from, or null to start fresh (default `parentFromHistory`). */
  parentOf?: (ctx: WeightHookContext) => number | null | Promise<number | null>;
  tf: typeof tfType;
}

const keyOf = (ctx: WeightHookContext, trial: number) => (ctx.experimentId === undefined ? '' : `experiment-${ctx.experimentId}/`) + trialKey(trial);

export function morphismInheritance(o: MorphismInheritanceOptions): WeightInitHook {
  const parentOf = o.parentOf ?? parentFromHistory;
  return {
    async init(ctx) {
      const parent = await parentOf(ctx);
      if (parent === null || parent === ctx.trialNumber) return null;
      const stored = await loadTrialWeights(o.store, keyOf(ctx, parent));
      if (!stored) return null;
      const r = inheritWeights(stored.graph, stored.weights, ctx.graph, { seed: o.seed ?? ctx.trialNumber ?? 0, split: o.split, stats: o.stats });
      writeWeights(ctx.model, ctx.graph, r.weights, o.tf);
      const counts: Record<string, number> = {};
      for (const n of r.nodes) counts[n.status] = (counts[n.status] ?? 0) + 1;
      const summary: InheritSummary = {
        parent,
        parentEpochs: trainedEpochs(ctx.history?.find((t) => t.number === parent)),
        functionPreserving: r.functionPreserving,
        counts,
        nodes: r.nodes.map((n) => ({ id: n.id, status: n.status, ...(n.from && n.from !== n.id ? { from: n.from } : {}) })),
      };
      ctx.setSystem?.({ inherit: summary });
      return summary;
    },
    async save(ctx) {
      if (ctx.trialNumber === undefined) return;
      const key = keyOf(ctx, ctx.trialNumber);
      await saveTrialWeights(o.store, key, ctx.graph, readWeights(ctx.model, ctx.graph));
      ctx.setAttr?.('weights', key);
    },
  };
}

/** The hook context of a trial run by an experiment (its number, experiment, attrs and history). */
export function trialHookContext(trial: Trial, params: Params, graph: ArchGraph, model: tfType.LayersModel): WeightHookContext {
  return {
    trialNumber: trial.number,
    experimentId: trial.experimentId,
    attrs: trial.attrs,
    history: trial.history(),
    params,
    graph,
    model,
    setAttr: (k, v) => trial.setAttr(k, v),
    setSystem: (p) => trial.setSystem(p),
  };
}

/** Epochs behind a trial's final weights: its own (attrs.training.epochs) plus those it inherited (system.inherit); null without its record. */
export function trainedEpochs(t: TrialRecord | undefined): number | null {
  if (!t) return null;
  const own = (t.attrs.training as { epochs?: number } | undefined)?.epochs ?? 0;
  const inherit = t.system.inherit;
  if (!inherit) return own;
  return inherit.parentEpochs === null ? null : own + inherit.parentEpochs;
}

export const hasStoredWeights = (t: TrialRecord): boolean => typeof t.attrs.weights === 'string';

/**
 * The default parent: the strategy's choice (trial attr `parent`, set by evolution) when that trial
 * has stored weights, else the nearest finished trial with stored weights (BO, TPE, random).
 */
export function parentFromHistory(ctx: WeightHookContext): number | null {
  const history = ctx.history ?? [];
  const own = ctx.attrs?.parent;
  if (typeof own === 'number') {
    // A history without it (a trial process away from the store) leaves the check to the artifact store.
    const rec = history.find((t) => t.number === own);
    if (!rec || (rec.state === 'COMPLETE' && hasStoredWeights(rec))) return own;
  }
  return ctx.trialNumber === undefined ? null : nearestParent(history, ctx.params, ctx.trialNumber, hasStoredWeights);
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

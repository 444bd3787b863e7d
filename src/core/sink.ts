/**
 * What a running trial writes through and reads: the narrow seam between a Trial and whoever runs it.
 * The experiment's own sink writes to the store; a job's sink (core/job-trial.ts) turns writes into
 * executor events. Nothing else of the store is reachable from a trial.
 */
import type { ParamSpec, ParamValue, Params } from '../space/params.js';
import type { SystemAttrs, TrialRecord } from './store.js';

export interface TrialSink {
  /** Define-by-run parameters the trial suggested, with their specs. */
  setParams(params: Params, specs: Record<string, ParamSpec>): void;
  /** An intermediate objective value at `step`. */
  report(step: number, value: number): void;
  /** Merged into the trial's user attrs, and `system` (when given) into its system attrs. */
  setAttrs(attrs: Record<string, unknown>, system?: SystemAttrs): void;
  /** The strategy's value for a define-by-run parameter the ask-time proposal did not cover, or undefined (seeded random). */
  propose(name: string, spec: ParamSpec): ParamValue | undefined;
  /** Whether the experiment's pruner wants this trial stopped now (stops from outside arrive as `requestStop`). */
  shouldPrune(): boolean;
  /** The experiment's trials as the trial may see them (a trial run away from the store sees only itself). */
  history(): readonly TrialRecord[];
}

/** What a Trial starts from: the stored trial as an executor's job carries it. */
export interface TrialInit {
  id: number;
  experimentId: number;
  number: number;
  seed: number;
  params: Params;
  distributions: Record<string, ParamSpec>;
  attrs?: Record<string, unknown>;
  /** Its system attrs as stored (a scheduler's `job`, ...). */
  system?: SystemAttrs;
  /** What the strategy proposed at ask time (define-by-run suggestions take it when it fits the range). */
  proposed?: Params;
}

/**
 * The executor seam, in the spirit of NNI's training service: the experiment's loop (which owns the
 * store and the strategy) submits trials; an executor runs them somewhere (this process, child
 * processes, workers behind a Redis queue), streams their events back and ends each with an outcome.
 * Everything that crosses the seam is plain serialisable data; a same-process executor may also use
 * the listener's `live` access (the strategy's define-by-run proposals at suggest time, the history).
 */
import type { ParamSpec, ParamValue, Params } from '../space/params.js';
import type { SystemAttrs, TrialCost, TrialRecord } from './store.js';
import type { StoredNumber } from './values.js';

/** A define-by-run value the strategy proposed at ask time, for the spec it was proposed under. */
export interface DynamicProposal {
  spec: ParamSpec;
  value: ParamValue;
}

/** One trial to run: enough for another process or machine to rebuild the Trial and its objective. */
export interface TrialJob<O = unknown> {
  experimentId: number;
  experimentName: string;
  trialId: number;
  number: number;
  seed: number;
  /** Numbers the objective returns (one per direction). */
  objectives?: number;
  params: Params;
  distributions: Record<string, ParamSpec>;
  /** Strategy proposal for define-by-run parameters of the inferred space. */
  proposed: Params;
  /**
   * The strategy's proposals for the other define-by-run parameters seen so far (its `sampleParam`
   * at ask time), used by `trial.suggest*` when the spec matches: a remote trial gets the same model-based
   * values as an in-process one.
   */
  dynamic?: Record<string, DynamicProposal>;
  objective: O;
  /** The trial's user attrs when submitted (what the strategy stored at ask time, e.g. evolution's parent). */
  attrs?: Record<string, unknown>;
  /** The trial's system attrs when submitted, less `objective` (e.g. a scheduler's `job`). */
  system?: SystemAttrs;
}

export type TrialEvent =
  /** Values cross JSON transports (Redis) as StoredNumber: NaN and infinities as strings. */
  | { type: 'intermediate'; step: number; value: StoredNumber }
  | { type: 'params'; params: Params; specs: Record<string, ParamSpec> }
  | { type: 'attrs'; attrs: Record<string, unknown>; system?: SystemAttrs };

export interface TrialOutcome {
  state: 'COMPLETE' | 'PRUNED' | 'FAILED';
  /** Objective values (COMPLETE), the last intermediate value (PRUNED) or null; StoredNumber as in TrialEvent. */
  values: StoredNumber[] | null;
  /** What the run measured; null when it never got to (a crashed process): the coordinator's clock counts. */
  cost: TrialCost | null;
  error: string | null;
  /** Every intermediate value the run reported (so none is lost if an event was missed). */
  intermediate: { step: number; value: StoredNumber }[];
  /** Define-by-run parameters the run suggested, with their specs. */
  params: Params;
  distributions: Record<string, ParamSpec>;
  attrs: Record<string, unknown>;
  /** System attrs the run wrote (`trial.setSystem`). */
  system?: SystemAttrs;
  /** The queue worker (`host:pid`) that ran it. */
  worker?: string;
  /** The objective skipped the trial (TrialSkipped), and why. */
  skipped?: string;
  /** The objective's own error (same-process executors only; not serialised): `catchErrors: false` rethrows it. */
  thrown?: unknown;
}

/** What a same-process executor may ask of the experiment while a trial runs. */
export interface LiveAccess {
  /** The strategy's value for a define-by-run parameter (its `sampleParam`), or undefined. */
  propose(trialId: number, name: string, spec: ParamSpec): ParamValue | undefined;
  /** The experiment's trials as stored now. */
  history(): readonly TrialRecord[];
}

export interface ExecutorListener {
  event(trialId: number, e: TrialEvent): void;
  end(trialId: number, outcome: TrialOutcome): void;
  /** The executor cannot go on (e.g. Redis gone for too long); the loop stops with this error. */
  fatal?(e: Error): void;
  live?: LiveAccess;
}

export type ExecutorKind = 'inprocess' | 'pool' | 'bullmq';

export interface Executor<O = unknown> {
  readonly kind: ExecutorKind;
  /** How many trials it runs at once (the loop keeps this many in flight). */
  readonly slots: number;
  start(listener: ExecutorListener): Promise<void>;
  submit(job: TrialJob<O>): Promise<void>;
  /** Asks a running trial to stop; it sees `shouldPrune()` true within a second. */
  stop(trialId: number): void;
  /**
   * After a coordinator restart: jobs of trials still RUNNING in the store. The executor keeps
   * tracking those it still has (running or finished while the coordinator was down) and resubmits
   * lost ones. Executors without durable jobs leave this out (their trials are failed as abandoned).
   */
  recover?(jobs: TrialJob<O>[]): Promise<void>;
  /** The loop has recorded this trial's outcome: a durable executor may now drop its result. */
  ack?(trialId: number): Promise<void>;
  close(): Promise<void>;
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** The outcome of a run that ended without reporting (crash, lost job, stopped before start). */
export function brokenOutcome(state: 'FAILED' | 'PRUNED', error: string): TrialOutcome {
  return { state, values: null, cost: null, error, intermediate: [], params: {}, distributions: {}, attrs: {} };
}

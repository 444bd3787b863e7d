/**
 * The executor seam, in the spirit of NNI's training service: a coordinator (which owns the store and
 * the strategy) submits trials; an executor runs them somewhere (this process, child processes,
 * workers behind a Redis queue), streams their events back and ends each with an outcome. Everything
 * that crosses the seam is plain serialisable data.
 */
import type { ParamSpec, Params } from '../space/params.js';
import type { TrialCost } from '../core/store.js';
import type { StoredNumber } from '../store/values.js';
import type { ObjectiveSpec } from './objective-spec.js';

/** One trial to run: enough for another process or machine to rebuild the Trial and its objective. */
export interface TrialJob {
  experimentId: number;
  experimentName: string;
  trialId: number;
  number: number;
  seed: number;
  params: Params;
  distributions: Record<string, ParamSpec>;
  /** Strategy proposal for define-by-run parameters. */
  proposed: Params;
  objective: ObjectiveSpec;
  /** The trial's attrs when submitted (what the strategy stored at ask time, e.g. a scheduler's job). */
  attrs?: Record<string, unknown>;
}

export type TrialEvent =
  /** Values cross JSON transports (Redis) as StoredNumber: NaN and infinities as strings. */
  | { type: 'intermediate'; step: number; value: StoredNumber }
  | { type: 'params'; params: Params; specs: Record<string, ParamSpec> }
  | { type: 'attrs'; attrs: Record<string, unknown> };

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
}

export interface ExecutorListener {
  event(trialId: number, e: TrialEvent): void;
  end(trialId: number, outcome: TrialOutcome): void;
  /** The executor cannot go on (e.g. Redis gone for too long); the coordinator stops with this error. */
  fatal?(e: Error): void;
}

export interface Executor {
  readonly kind: 'inprocess' | 'pool' | 'bullmq';
  /** How many trials it runs at once (the coordinator keeps this many in flight). */
  readonly slots: number;
  start(listener: ExecutorListener): Promise<void>;
  submit(job: TrialJob): Promise<void>;
  /** Asks a running trial to stop; it sees `shouldPrune()` true within a second. */
  stop(trialId: number): void;
  /**
   * After a coordinator restart: jobs of trials still RUNNING in the store. The executor keeps
   * tracking those it still has (running or finished while the coordinator was down) and resubmits
   * lost ones. Executors without durable jobs leave this out (their trials are failed as abandoned).
   */
  recover?(jobs: TrialJob[]): Promise<void>;
  /** The coordinator has recorded this trial's outcome: a durable executor may now drop its result. */
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

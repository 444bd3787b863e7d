/**
 * A strategy decides what to try next. It is a function of the stored trial history (plus its seed),
 * so a resumed experiment, or several workers sharing one store, need nothing special: the same
 * history gives the same next decision. A strategy that learns parameters (an RL controller) keeps
 * them with `state`, which lives in the store too.
 */
import type { ParamSpec, ParamValue, Params, SearchSpace } from '../space/params.js';
import type { Direction, SystemAttrs, TrialRecord } from './store.js';
import type { Rng } from '../util/rng.js';

export interface StrategyStateAccess {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

export interface StrategyContext {
  /** The declarative space, or the one inferred from finished trials for define-by-run objectives. */
  space: SearchSpace | null;
  /** Every trial of the experiment so far, ordered by number (RUNNING ones included). */
  history: readonly TrialRecord[];
  /** Number of the trial being decided. */
  trialNumber: number;
  seed: number;
  directions: readonly Direction[];
  /** Random stream derived from (seed, trialNumber): reproducible and resume-safe. */
  rng: Rng;
  state: StrategyStateAccess;
  /** Records an attribute on the trial being decided (e.g. evolution's `parent`); set by Experiment.ask. */
  setAttr?: (key: string, value: unknown) => void;
  /** Records system attrs on the trial being decided (a scheduler's `job`); set by Experiment.ask. */
  setSystem?: (patch: SystemAttrs) => void;
}

export interface Strategy {
  readonly name: string;
  /** Proposes values for (some of) the parameters of `ctx.space`; missing ones are sampled per parameter. */
  ask(ctx: StrategyContext): Params | Promise<Params>;
  /** Value for a define-by-run parameter that `ask` did not cover; default: uniform random. */
  sampleParam?(ctx: StrategyContext, name: string, spec: ParamSpec): ParamValue;
  /** Hook after a trial finished (e.g. a policy-gradient update), run by whoever owns the store. */
  tell?(ctx: StrategyContext, trial: TrialRecord): void | Promise<void>;
}

/** Score to maximise for the first objective (sign-flipped for minimisation); null when not complete. */
export function score(t: TrialRecord, directions: readonly Direction[]): number | null {
  if (t.state !== 'COMPLETE' || !t.values || t.values.length === 0) return null;
  const v = t.values[0]!;
  if (v === null || !Number.isFinite(v)) return null;
  return directions[0] === 'minimize' ? -v : v;
}

/**
 * A trial's constraint values (attrs.constraints, written by the experiment's `constraints` function;
 * feasible when all are <= 0), or null when it has none.
 */
export function constraintsOf(t: TrialRecord): number[] | null {
  const c = t.attrs.constraints;
  return Array.isArray(c) && c.every((v) => typeof v === 'number') ? (c as number[]) : null;
}

/** Total violation: sum of the positive constraint values (0 when feasible or unconstrained). */
export function violation(t: TrialRecord): number {
  const c = constraintsOf(t);
  if (!c) return 0;
  let s = 0;
  for (const v of c) s += Number.isNaN(v) ? Infinity : Math.max(0, v);
  return s;
}

/**
 * The rules of a trial's life, written once and used by every executor path: what an objective's
 * return makes of the trial (value -> state), what a PRUNED trial keeps, when a search starts no
 * more trials, and which trials count as done.
 */
import type { Direction, IntermediateValue, TrialRecord } from './store.js';
import { score, violation } from './strategy.js';

export interface Judged {
  state: 'COMPLETE' | 'FAILED';
  values: number[] | null;
  error: string | null;
}

/**
 * An objective's return as a trial result: COMPLETE with one finite number per objective, else
 * FAILED saying why (`objectives` omitted: any count is accepted, the recorder checks it).
 */
export function judge(returned: unknown, objectives?: number): Judged {
  const arr = returned === null ? null : Array.isArray(returned) ? (returned as unknown[]) : [returned];
  if (!arr || (objectives !== undefined && arr.length !== objectives)) {
    return { state: 'FAILED', values: null, error: `objective returned ${JSON.stringify(returned)}; expected ${objectives ?? 1} number(s)` };
  }
  if (arr.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    const shown = arr.map((v) => (typeof v === 'number' ? String(v) : JSON.stringify(v))).join(', ');
    return { state: 'FAILED', values: null, error: `objective returned a non-finite value (${shown})` };
  }
  return { state: 'COMPLETE', values: arr as number[], error: null };
}

/** A PRUNED trial keeps its last intermediate value as its value (null when it reported none). */
export function prunedValues(intermediate: readonly IntermediateValue[]): number[] | null {
  const last = intermediate.at(-1);
  return last ? [last.value] : null;
}

/** Whether a trial counts toward nTrials: abandoned trials (dead process) do not. */
export function isDone(t: TrialRecord): boolean {
  if (t.state === 'COMPLETE' || t.state === 'PRUNED') return true;
  return t.state === 'FAILED' && t.system.abandoned !== true;
}

export function simulatedSpent(trials: readonly TrialRecord[]): number {
  let s = 0;
  for (const t of trials) s += t.cost.simulatedSeconds;
  return s;
}

export interface StopRules {
  /** Stop once this many trials are done in the experiment (COMPLETE, PRUNED or FAILED by its objective). */
  nTrials?: number;
  /** Stop once the experiment's simulated clock (sum of charged seconds) reaches this. */
  budgetSeconds?: number;
  /** Stop starting trials after this many wall-clock seconds of this call. */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

/** Whether another trial may start now: `inflight` trials are running, the call began at `startedMs`. */
export function mayStart(rules: StopRules, startedMs: number, trials: () => readonly TrialRecord[], inflight: number): boolean {
  if (rules.signal?.aborted) return false;
  if (rules.timeoutSeconds !== undefined && Date.now() - startedMs >= rules.timeoutSeconds * 1000) return false;
  if (rules.nTrials === undefined && rules.budgetSeconds === undefined) return true;
  const all = trials();
  if (rules.nTrials !== undefined) {
    let done = 0;
    for (const t of all) if (isDone(t)) done++;
    if (done + inflight >= rules.nTrials) return false;
  }
  return !(rules.budgetSeconds !== undefined && simulatedSpent(all) >= rules.budgetSeconds);
}

/**
 * The best feasible COMPLETE trial by the first objective (ties: the earlier one; a trial whose
 * `attrs.constraints` has a positive value is infeasible and never best). Trials run by a
 * multi-fidelity scheduler (`system.job.budget`) compete only at the largest budget any of them
 * completed: a 200-epoch value is not comparable with a 12-epoch one.
 */
export function bestOf(trials: readonly TrialRecord[], directions: readonly Direction[]): TrialRecord | null {
  let top = -Infinity;
  for (const t of trials) {
    const b = jobBudget(t);
    if (b !== null && b > top && score(t, directions) !== null) top = b;
  }
  let best: TrialRecord | null = null;
  let bestScore = -Infinity;
  for (const t of trials) {
    const s = score(t, directions);
    if (s === null || (top > -Infinity && jobBudget(t) !== top) || violation(t) > 0) continue;
    if (s > bestScore) {
      best = t;
      bestScore = s;
    }
  }
  return best;
}

function jobBudget(t: TrialRecord): number | null {
  const b = t.system.job?.budget;
  return typeof b === 'number' ? b : null;
}

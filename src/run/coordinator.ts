/**
 * The coordinator loop: owns the experiment (strategy + store), keeps up to `slots` trials in flight
 * on an executor, records events and results as they arrive, and forwards pruning decisions as stop
 * requests. `tell` is idempotent (finishTrial), so a result that arrives twice is recorded once.
 */
import { isDone, simulatedSpent, type Experiment, type OptimizeOptions } from '../core/experiment.js';
import { SearchExhausted } from '../core/errors.js';
import type { TrialRecord } from '../core/store.js';
import { fromStored } from '../store/values.js';
import { StorageError } from '../core/errors.js';
import type { ObjectiveSpec } from './objective-spec.js';
import type { Executor, TrialEvent, TrialJob, TrialOutcome } from './types.js';

export interface RunOptions extends Omit<OptimizeOptions, 'catchErrors'> {
  objective: ObjectiveSpec;
  /** Trials in flight (default: the executor's slots). */
  parallelism?: number;
}

export function jobFor(exp: Experiment, rec: TrialRecord, objective: ObjectiveSpec, proposed = {}): TrialJob {
  return {
    experimentId: exp.id,
    experimentName: exp.name,
    trialId: rec.id,
    number: rec.number,
    seed: exp.seed,
    params: { ...rec.params },
    distributions: { ...rec.distributions },
    proposed: (rec.attrs.proposed as TrialJob['proposed']) ?? proposed,
    objective,
    attrs: { ...rec.attrs },
  };
}

/** Runs the experiment on `executor` until a stop condition holds and nothing is in flight. Returns the trials it recorded. */
export async function runWithExecutor(exp: Experiment, executor: Executor, opts: RunOptions): Promise<TrialRecord[]> {
  const started = Date.now();
  const slots = Math.max(1, opts.parallelism ?? executor.slots);
  const inflight = new Set<number>();
  const ran: TrialRecord[] = [];
  const ended: Array<[number, TrialOutcome]> = [];
  let wake: (() => void) | null = null;
  let fatal: Error | null = null;
  const store = exp.store;

  const onEvent = (trialId: number, e: TrialEvent): void => {
    const rec = store.getTrial(trialId);
    if (!rec || rec.state !== 'RUNNING') return; // late event of a finished trial
    if (e.type === 'params') store.setParams(trialId, e.params, e.specs);
    else if (e.type === 'attrs') store.setAttrs(trialId, e.attrs);
    else {
      store.addIntermediate(trialId, e.step, fromStored(e.value));
      if (exp.pruner) {
        const history = exp.trials();
        const now = history.find((t) => t.id === trialId);
        if (now && exp.pruner.shouldPrune({ trial: now, history, directions: exp.directions })) executor.stop(trialId);
      }
    }
  };
  await executor.start({
    event: onEvent,
    end: (trialId, outcome) => {
      ended.push([trialId, outcome]);
      wake?.();
    },
    fatal: (e) => {
      fatal ??= e;
      wake?.();
    },
  });

  if (executor.recover) {
    const mine = exp.trials().filter((t) => t.state === 'RUNNING' && t.attrs.executor === executor.kind);
    for (const t of mine) inflight.add(t.id);
    await executor.recover(mine.map((t) => jobFor(exp, t, (t.attrs.objective as ObjectiveSpec) ?? opts.objective)));
  }

  let exhausted = false;
  const mayLaunch = (): boolean => {
    if (exhausted || opts.signal?.aborted) return false;
    if (opts.timeoutSeconds !== undefined && Date.now() - started >= opts.timeoutSeconds * 1000) return false;
    if (opts.nTrials !== undefined || opts.budgetSeconds !== undefined) {
      const all = exp.trials();
      if (opts.nTrials !== undefined && all.filter(isDone).length + inflight.size >= opts.nTrials) return false;
      if (opts.budgetSeconds !== undefined && simulatedSpent(all) >= opts.budgetSeconds) return false;
    }
    return true;
  };

  try {
    for (;;) {
      if (fatal) throw fatal;
      while (ended.length > 0) {
        const [id, o] = ended.shift()!;
        const rec = await recordOrFail(exp, id, o);
        await executor.ack?.(id);
        if (!inflight.delete(id)) continue; // a duplicate result: already recorded
        ran.push(rec);
        opts.onTrialEnd?.(rec, exp);
      }
      while (inflight.size < slots && mayLaunch()) {
        let trial;
        try {
          trial = await exp.ask();
        } catch (e) {
          if (e instanceof SearchExhausted) {
            exhausted = true;
            break;
          }
          throw e;
        }
        const rec = store.getTrial(trial.id)!;
        // What a restarted coordinator needs to rebuild the job (proposals only matter for define-by-run).
        store.setAttrs(trial.id, { executor: executor.kind, objective: opts.objective, ...(exp.config.space ? {} : { proposed: trial.proposed }) });
        inflight.add(trial.id);
        await executor.submit(jobFor(exp, rec, opts.objective, trial.proposed));
      }
      if (inflight.size === 0 && ended.length === 0) break;
      if (ended.length === 0 && !fatal) await new Promise<void>((r) => (wake = r));
      wake = null;
    }
  } finally {
    await executor.close();
  }
  return ran;
}

/**
 * Records an outcome; an outcome the store cannot take fails its trial with the reason instead of
 * stopping the loop (a restarted coordinator would collect the same outcome and stop again).
 */
async function recordOrFail(exp: Experiment, trialId: number, o: TrialOutcome): Promise<TrialRecord> {
  try {
    return await record(exp, trialId, o);
  } catch (e) {
    if (e instanceof StorageError) throw e; // the storage itself is unusable: stop, nothing is lost
    return exp.tell(trialId, null, { state: 'FAILED', cost: o.cost ?? undefined, error: `could not record the outcome: ${(e as Error).message}` });
  }
}

/** Records an outcome through `tell` (idempotent), merging what the run reported on the way. */
async function record(exp: Experiment, trialId: number, o: TrialOutcome): Promise<TrialRecord> {
  const store = exp.store;
  const rec = store.getTrial(trialId);
  if (rec && rec.state === 'RUNNING') {
    if (Object.keys(o.params).length > 0) store.setParams(trialId, o.params, o.distributions);
    if (Object.keys(o.attrs).length > 0) store.setAttrs(trialId, o.attrs);
    const have = new Set(rec.intermediate.map((iv) => iv.step));
    for (const iv of o.intermediate) if (!have.has(iv.step)) store.addIntermediate(trialId, iv.step, fromStored(iv.value));
  }
  const values = o.values ? o.values.map(fromStored) : null;
  // A run stopped from outside reports no value: PRUNED trials keep their last intermediate, as in optimize().
  const last = o.state === 'PRUNED' && !o.values ? store.getTrial(trialId)?.intermediate.at(-1) : undefined;
  return exp.tell(trialId, last ? [last.value] : values, { state: o.state, cost: o.cost ?? undefined, error: o.error ?? undefined });
}

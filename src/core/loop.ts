/**
 * The one trial loop: keeps up to `parallelism` trials in flight on an executor (in-process, a pool,
 * BullMQ workers), records their events and outcomes as they arrive, asks the pruner on every reported
 * value and forwards its decision as a stop request. Stop and outcome rules come from core/outcome.ts.
 * Recording is idempotent (finishTrial), so an outcome that arrives twice is recorded once.
 */
import type { Experiment } from './experiment.js';
import type { Executor, TrialEvent, TrialJob, TrialOutcome } from './executor.js';
import { mayStart, prunedValues, type StopRules } from './outcome.js';
import { SearchExhausted } from './errors.js';
import type { SystemAttrs, TrialRecord } from './store.js';
import { fromStored } from './values.js';
import { StorageError } from './errors.js';

export interface RunOptions<O = unknown> extends StopRules {
  /** The objective spec jobs carry (and a restarted coordinator rebuilds jobs from); none for `optimize`. */
  objective?: O;
  /** Trials in flight (default: the executor's slots). */
  parallelism?: number;
  /** Rethrow objective errors (same-process executors) instead of recording FAILED trials and going on. */
  catchErrors?: boolean;
  onTrialEnd?: (trial: TrialRecord, experiment: Experiment) => void;
}

export function jobFor<O>(exp: Experiment, rec: TrialRecord, objective: O): TrialJob<O> {
  return {
    experimentId: exp.id,
    experimentName: exp.name,
    trialId: rec.id,
    number: rec.number,
    seed: exp.seed,
    objectives: exp.directions.length,
    params: { ...rec.params },
    distributions: { ...rec.distributions },
    proposed: rec.system.proposed ?? {},
    ...(rec.system.dynamic ? { dynamic: rec.system.dynamic } : {}),
    objective,
    attrs: { ...rec.attrs },
    system: systemForJob(rec.system),
  };
}

/** A trial's system attrs as its job carries them: `objective` travels as the job's own field. */
function systemForJob(system: SystemAttrs): SystemAttrs {
  const { objective: _o, ...rest } = system;
  return rest;
}

/** Runs the experiment on `executor` until a stop rule holds and nothing is in flight. Returns the trials it recorded. */
export async function runLoop<O>(exp: Experiment, executor: Executor<O>, opts: RunOptions<O>): Promise<TrialRecord[]> {
  const started = Date.now();
  const slots = Math.max(1, opts.parallelism ?? executor.slots);
  const inflight = new Set<number>();
  const ran: TrialRecord[] = [];
  const ended: Array<[number, TrialOutcome]> = [];
  let wake: (() => void) | null = null;
  let fatal: Error | null = null;
  const sameProcess = executor.kind === 'inprocess';

  await executor.start({
    event: (trialId, e) => {
      if (record(exp, trialId, e) && exp.shouldPrune(trialId)) executor.stop(trialId);
    },
    end: (trialId, outcome) => {
      ended.push([trialId, outcome]);
      wake?.();
    },
    fatal: (e) => {
      fatal ??= e;
      wake?.();
    },
    ...(sameProcess ? { live: exp.live } : {}),
  });

  if (executor.recover) {
    const mine = exp.trials().filter((t) => t.state === 'RUNNING' && t.system.executor === executor.kind);
    for (const t of mine) inflight.add(t.id);
    await executor.recover(mine.map((t) => jobFor(exp, t, (t.system.objective as O) ?? opts.objective!)));
  }

  let exhausted = false;
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
        if (o.thrown !== undefined && opts.catchErrors === false) throw o.thrown;
      }
      while (!exhausted && inflight.size < slots && mayStart(opts, started, () => exp.trials(), inflight.size)) {
        let trial;
        try {
          // Created with what a restarted coordinator needs to rebuild the job, in one write.
          const system = { executor: executor.kind, ...(opts.objective === undefined ? {} : { objective: opts.objective }) };
          trial = await exp.ask({}, { system, remote: !sameProcess });
        } catch (e) {
          if (!(e instanceof SearchExhausted)) throw e;
          exhausted = true;
          break;
        }
        inflight.add(trial.id);
        await executor.submit(jobFor(exp, exp.trial(trial.id)!, opts.objective as O));
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

/** Writes one event of a running trial; false for a late event of a finished one. */
function record(exp: Experiment, trialId: number, e: TrialEvent): boolean {
  const store = exp.store;
  const rec = exp.trial(trialId);
  if (!rec || rec.state !== 'RUNNING') return false;
  if (e.type === 'params') store.setParams(trialId, e.params, e.specs);
  else if (e.type === 'attrs') store.setAttrs(trialId, e.attrs, e.system);
  else {
    store.addIntermediate(trialId, e.step, fromStored(e.value));
    return true;
  }
  return false;
}

/**
 * Records an outcome; an outcome the store cannot take fails its trial with the reason instead of
 * stopping the loop (a restarted coordinator would collect the same outcome and stop again).
 */
async function recordOrFail(exp: Experiment, trialId: number, o: TrialOutcome): Promise<TrialRecord> {
  try {
    return await recordOutcome(exp, trialId, o);
  } catch (e) {
    if (e instanceof StorageError) throw e; // the storage itself is unusable: stop, nothing is lost
    return exp.tell(trialId, null, { state: 'FAILED', cost: o.cost ?? undefined, error: `could not record the outcome: ${(e as Error).message}` });
  }
}

/** Records an outcome through `tell` (idempotent), merging what the run reported on the way. */
async function recordOutcome(exp: Experiment, trialId: number, o: TrialOutcome): Promise<TrialRecord> {
  const store = exp.store;
  const rec = exp.trial(trialId);
  if (rec && rec.state === 'RUNNING') {
    if (Object.keys(o.params).length > 0) store.setParams(trialId, o.params, o.distributions);
    if (Object.keys(o.attrs).length > 0 || o.system) store.setAttrs(trialId, o.attrs, o.system);
    const have = new Set(rec.intermediate.map((iv) => iv.step));
    for (const iv of o.intermediate) if (!have.has(iv.step)) store.addIntermediate(trialId, iv.step, fromStored(iv.value));
  }
  const values = o.values ? o.values.map(fromStored) : null;
  // A run stopped from outside reports no value: it keeps its last intermediate, as a pruned objective does.
  const kept = o.state === 'PRUNED' && !o.values ? prunedValues(exp.trial(trialId)?.intermediate ?? []) : values;
  const system = { ...(o.worker ? { worker: o.worker } : {}), ...(o.skipped ? { skipped: o.skipped } : {}) };
  return exp.tell(trialId, kept, { state: o.state, cost: o.cost ?? undefined, error: o.error ?? undefined, system });
}

/**
 * Runs one TrialJob wherever an executor put it (this process, a pool child, a queue worker): rebuilds
 * the Trial over a sink whose writes become events for the loop, runs the objective and turns whatever
 * happens (a value, NaN, a throw, TrialPruned) into an outcome by the rules of core/outcome.ts.
 */
import type { Objective } from './experiment.js';
import { Trial, TrialPruned, TrialSkipped } from './trial.js';
import type { TrialSink } from './sink.js';
import { judge, prunedValues } from './outcome.js';
import type { ParamSpec, ParamValue, Params } from '../space/params.js';
import { emptyCost, type TrialRecord } from './store.js';
import { toStored } from './values.js';
import { errorMessage, type LiveAccess, type TrialEvent, type TrialJob, type TrialOutcome } from './executor.js';

export interface RunControl {
  /** Called with the Trial once it exists, so the caller can `requestStop()` it. */
  onTrial?(trial: Trial): void;
  /** A same-process executor's live access to the experiment. */
  live?: LiveAccess;
  /** Objectives per result (checked here; the recorder checks again). */
  objectives?: number;
}

/** The sink of a trial run from a job: writes become events; proposals come live or from the job. */
function jobSink(job: TrialJob, trial: () => Trial, emit: (e: TrialEvent) => void, live?: LiveAccess): TrialSink {
  return {
    setParams: (params, specs) => emit({ type: 'params', params, specs }),
    report: (step, value) => emit({ type: 'intermediate', step, value: toStored(value) }),
    setAttrs: (attrs, system) => emit({ type: 'attrs', attrs, ...(system ? { system } : {}) }),
    propose: (name: string, spec: ParamSpec): ParamValue | undefined => {
      if (live) return live.propose(job.trialId, name, spec);
      const d = job.dynamic?.[name];
      return d && sameSpec(d.spec, spec) ? d.value : undefined;
    },
    shouldPrune: () => false, // the loop decides on each reported value and sends a stop request
    history: () => live?.history() ?? [snapshot(job, trial())],
  };
}

function sameSpec(a: ParamSpec, b: ParamSpec): boolean {
  const { when: _a, ...ra } = a;
  const { when: _b, ...rb } = b;
  return JSON.stringify(ra) === JSON.stringify(rb);
}

function snapshot(job: TrialJob, t: Trial): TrialRecord {
  return {
    id: job.trialId,
    experimentId: job.experimentId,
    number: job.number,
    state: 'RUNNING',
    params: { ...t.params },
    distributions: { ...t.specs },
    values: null,
    intermediate: [...t.intermediate],
    cost: emptyCost(),
    attrs: { ...t.attrs },
    system: { ...t.system },
    error: null,
    createdAt: t.startedAt,
    finishedAt: null,
    heartbeatAt: Date.now(),
    owner: null,
  };
}

/**
 * Runs `job` with `objective`. Define-by-run parameters the strategy did not propose are drawn from
 * Rng.derive(seed, number, name). Pruning decisions come from the loop as stop requests.
 */
export async function runTrialJob(job: TrialJob, objective: Objective, emit: (e: TrialEvent) => void, control: RunControl = {}): Promise<TrialOutcome> {
  let trial!: Trial;
  const sink = jobSink(job, () => trial, emit, control.live);
  trial = new Trial({ id: job.trialId, experimentId: job.experimentId, number: job.number, seed: job.seed, params: job.params, distributions: job.distributions, attrs: job.attrs, system: job.system, proposed: job.proposed }, sink);
  control.onTrial?.(trial);
  const finish = (state: TrialOutcome['state'], values: number[] | null, error: string | null, thrown?: unknown): TrialOutcome => {
    const params: Params = {};
    const distributions: Record<string, ParamSpec> = {};
    for (const k of Object.keys(trial.params)) {
      if (k in job.params) continue;
      params[k] = trial.params[k]!;
      distributions[k] = trial.specs[k]!;
    }
    return {
      state,
      values: values ? values.map(toStored) : null,
      error,
      cost: trial.measuredCost(),
      intermediate: trial.intermediate.map((iv) => ({ step: iv.step, value: toStored(iv.value) })),
      params,
      distributions,
      attrs: { ...trial.attrs },
      ...(Object.keys(trial.systemWritten).length > 0 ? { system: { ...trial.systemWritten } } : {}),
      ...(thrown === undefined || !control.live ? {} : { thrown }),
    };
  };
  try {
    const j = judge(await objective(trial), control.objectives ?? job.objectives);
    return finish(j.state, j.values, j.error);
  } catch (e) {
    if (e instanceof TrialSkipped) return { ...finish('PRUNED', null, e.message), skipped: e.message };
    if (e instanceof TrialPruned) return finish('PRUNED', prunedValues(trial.intermediate), e.message);
    return finish('FAILED', null, errorMessage(e), e);
  }
}

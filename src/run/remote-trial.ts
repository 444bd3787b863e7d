/**
 * Runs one TrialJob away from the coordinator's store (a pool child, a queue worker, or in-process):
 * rebuilds a Trial over a one-trial mirror store whose writes become events for the coordinator,
 * runs the objective and turns whatever happens (a value, NaN, a throw, TrialPruned) into an outcome.
 */
import type { Objective } from '../core/experiment.js';
import type { TrialHost } from '../core/host.js';
import { Trial, TrialPruned } from '../core/trial.js';
import type { ParamSpec, ParamValue, Params } from '../space/params.js';
import { emptyCost, type Store, type TrialRecord } from '../core/store.js';
import { Rng } from '../util/rng.js';
import { toStored } from '../store/values.js';
import { setTrialArtifacts, type ArtifactStore } from '../store/artifacts.js';
import { errorMessage, type TrialEvent, type TrialJob, type TrialOutcome } from './types.js';

/** A Store holding just the one trial being run; writes are mirrored to `emit`. */
class MirrorStore implements Store {
  constructor(
    readonly rec: TrialRecord,
    private readonly emit: (e: TrialEvent) => void,
  ) {}
  setParams(_id: number, params: Params, specs: Record<string, ParamSpec>): void {
    Object.assign(this.rec.params, params);
    Object.assign(this.rec.distributions, specs);
    this.emit({ type: 'params', params, specs });
  }
  addIntermediate(_id: number, step: number, value: number): void {
    const i = this.rec.intermediate.findIndex((iv) => iv.step === step);
    if (i >= 0) this.rec.intermediate[i] = { step, value };
    else this.rec.intermediate.push({ step, value });
    this.emit({ type: 'intermediate', step, value: toStored(value) });
  }
  setAttrs(_id: number, attrs: Record<string, unknown>): void {
    Object.assign(this.rec.attrs, attrs);
    this.emit({ type: 'attrs', attrs });
  }
  heartbeat(): void {}
  getTrial(): TrialRecord {
    return this.rec;
  }
  getTrials(): readonly TrialRecord[] {
    return [this.rec];
  }
  private no(what: string): never {
    throw new Error(`${what} is not available to a trial running in an executor`);
  }
  openExperiment(): never {
    return this.no('openExperiment');
  }
  getExperiment(): never {
    return this.no('getExperiment');
  }
  listExperiments(): never {
    return this.no('listExperiments');
  }
  createTrial(): never {
    return this.no('createTrial');
  }
  claimTrial(): never {
    return this.no('claimTrial');
  }
  finishTrial(): never {
    return this.no('finishTrial');
  }
  getStrategyState(): never {
    return this.no('getStrategyState');
  }
  setStrategyState(): never {
    return this.no('setStrategyState');
  }
  close(): void {}
}

export interface RunControl {
  /** Called with the Trial once it exists, so the caller can `requestStop()` it. */
  onTrial?(trial: Trial): void;
  artifacts?: ArtifactStore | null;
}

/**
 * Runs `job` with `objective`. Define-by-run parameters not proposed by the strategy are drawn from
 * Rng.derive(seed, number, name), as the in-process default does. Pruning decisions come from the
 * coordinator as stop requests (`trial.requestStop`).
 */
export async function runTrialJob(
  job: TrialJob,
  objective: Objective,
  emit: (e: TrialEvent) => void,
  control: RunControl = {},
): Promise<TrialOutcome> {
  const rec: TrialRecord = {
    id: job.trialId,
    experimentId: job.experimentId,
    number: job.number,
    state: 'RUNNING',
    params: { ...job.params },
    distributions: { ...job.distributions },
    values: null,
    intermediate: [],
    cost: emptyCost(),
    attrs: { ...job.attrs },
    error: null,
    createdAt: Date.now(),
    finishedAt: null,
    heartbeatAt: Date.now(),
    owner: null,
  };
  const store = new MirrorStore(rec, emit);
  const host: TrialHost = {
    store,
    sampleParam: (): ParamValue | undefined => undefined,
    rngFor: (n, purpose) => Rng.derive(job.seed, n, purpose),
    shouldPrune: () => false,
  };
  const trial = new Trial(host, rec, job.proposed);
  setTrialArtifacts(trial, control.artifacts ?? null);
  control.onTrial?.(trial);
  const dynParams = (): { params: Params; distributions: Record<string, ParamSpec> } => {
    const params: Params = {};
    const distributions: Record<string, ParamSpec> = {};
    for (const k of Object.keys(rec.params)) {
      if (k in job.params) continue;
      params[k] = rec.params[k]!;
      distributions[k] = rec.distributions[k]!;
    }
    return { params, distributions };
  };
  const finish = (state: TrialOutcome['state'], values: TrialOutcome['values'], error: string | null): TrialOutcome => ({
    state,
    values,
    error,
    cost: trial.measuredCost(),
    intermediate: rec.intermediate.map((iv) => ({ step: iv.step, value: toStored(iv.value) })),
    ...dynParams(),
    attrs: { ...rec.attrs },
  });
  try {
    const v = await objective(trial);
    const arr = Array.isArray(v) ? v : [v];
    if (arr.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      return finish('FAILED', null, `objective returned a non-finite value (${arr.map((v) => (typeof v === 'number' ? String(v) : JSON.stringify(v))).join(', ')})`);
    }
    return finish('COMPLETE', arr, null);
  } catch (e) {
    if (e instanceof TrialPruned) {
      const last = rec.intermediate.at(-1);
      return finish('PRUNED', last ? [toStored(last.value)] : null, e.message);
    }
    return finish('FAILED', null, errorMessage(e));
  }
}

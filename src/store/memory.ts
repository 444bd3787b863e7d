/** In-memory store: for tests, benchmarks and throw-away searches. Same semantics as the SQLite store. */
import type { ParamSpec, Params } from '../space/params.js';
import type {
  ExperimentConfig,
  ExperimentRecord,
  NewTrial,
  Store,
  SystemAttrs,
  TrialChanges,
  TrialFinish,
  TrialRecord,
  TrialState,
} from '../core/store.js';
import { emptyCost } from '../core/store.js';
import { TrialNumberTaken } from '../core/errors.js';

export class MemoryStore implements Store {
  private experiments = new Map<string, ExperimentRecord>();
  private trialsByExp = new Map<number, TrialRecord[]>();
  private trials = new Map<number, TrialRecord>();
  private state = new Map<string, unknown>();
  private nextExpId = 1;
  private nextTrialId = 1;
  /** Change log: entry i is the trial changed by change i + 1 (getTrialsSince reads from an offset). */
  private changes: TrialRecord[] = [];

  private changed(t: TrialRecord): void {
    this.changes.push(t);
  }

  openExperiment(name: string, config: ExperimentConfig): ExperimentRecord {
    const found = this.experiments.get(name);
    if (found) return found;
    const rec: ExperimentRecord = { id: this.nextExpId++, name, config: structuredClone(config), createdAt: Date.now() };
    this.experiments.set(name, rec);
    this.trialsByExp.set(rec.id, []);
    return rec;
  }

  getExperiment(name: string): ExperimentRecord | null {
    return this.experiments.get(name) ?? null;
  }

  listExperiments(): ExperimentRecord[] {
    return [...this.experiments.values()];
  }

  createTrial(experimentId: number, init: NewTrial): TrialRecord {
    const list = this.trialsByExp.get(experimentId);
    if (!list) throw new Error(`no experiment with id ${experimentId}`);
    if (init.expectNumber !== undefined && init.expectNumber !== list.length) throw new TrialNumberTaken(init.expectNumber, list.length);
    const now = Date.now();
    const rec: TrialRecord = {
      id: this.nextTrialId++,
      experimentId,
      number: list.length,
      state: init.state,
      params: { ...init.params },
      distributions: { ...init.distributions },
      values: null,
      intermediate: [],
      cost: emptyCost(),
      attrs: { ...(init.attrs ?? {}) },
      system: structuredClone(init.system ?? {}),
      error: null,
      createdAt: now,
      finishedAt: null,
      heartbeatAt: init.state === 'RUNNING' ? now : null,
      owner: init.owner,
    };
    list.push(rec);
    this.trials.set(rec.id, rec);
    this.changed(rec);
    return rec;
  }

  private must(trialId: number): TrialRecord {
    const t = this.trials.get(trialId);
    if (!t) throw new Error(`no trial with id ${trialId}`);
    return t;
  }

  claimTrial(trialId: number, owner: string, system?: SystemAttrs): boolean {
    const t = this.must(trialId);
    if (t.state !== 'WAITING') return false;
    t.state = 'RUNNING';
    t.owner = owner;
    t.heartbeatAt = Date.now();
    if (system) Object.assign(t.system, structuredClone(system));
    this.changed(t);
    return true;
  }

  setParams(trialId: number, params: Params, specs: Record<string, ParamSpec>): void {
    const t = this.must(trialId);
    Object.assign(t.params, params);
    Object.assign(t.distributions, specs);
    this.changed(t);
  }

  addIntermediate(trialId: number, step: number, value: number): void {
    const t = this.must(trialId);
    const i = t.intermediate.findIndex((iv) => iv.step === step);
    if (i >= 0) t.intermediate[i] = { step, value };
    else t.intermediate.push({ step, value });
    t.heartbeatAt = Date.now();
    this.changed(t);
  }

  setAttrs(trialId: number, attrs: Record<string, unknown>, system?: SystemAttrs): void {
    const t = this.must(trialId);
    Object.assign(t.attrs, attrs);
    if (system) Object.assign(t.system, structuredClone(system));
    this.changed(t);
  }

  heartbeat(trialId: number): void {
    this.must(trialId).heartbeatAt = Date.now();
  }

  finishTrial(trialId: number, finish: TrialFinish): boolean {
    const t = this.must(trialId);
    if (t.state !== 'RUNNING') return false;
    t.state = finish.state;
    t.values = finish.values ? [...finish.values] : null;
    t.cost = { ...finish.cost };
    t.error = finish.error ?? null;
    if (finish.attrs) Object.assign(t.attrs, finish.attrs);
    if (finish.system) Object.assign(t.system, structuredClone(finish.system));
    t.finishedAt = Date.now();
    this.changed(t);
    return true;
  }

  getTrial(trialId: number): TrialRecord | null {
    return this.trials.get(trialId) ?? null;
  }

  getTrials(experimentId: number, states?: readonly TrialState[]): readonly TrialRecord[] {
    const list = this.trialsByExp.get(experimentId) ?? [];
    return states ? list.filter((t) => states.includes(t.state)) : list;
  }

  getTrialsSince(experimentId: number, since: number): TrialChanges {
    const seen = new Set<TrialRecord>();
    const trials: TrialRecord[] = [];
    for (let i = since; i < this.changes.length; i++) {
      const t = this.changes[i]!;
      if (t.experimentId !== experimentId || seen.has(t)) continue;
      seen.add(t);
      trials.push(t);
    }
    return { trials, seq: this.changes.length };
  }

  getStrategyState(experimentId: number, key: string): unknown {
    const v = this.state.get(`${experimentId}/${key}`);
    return v === undefined ? undefined : structuredClone(v);
  }

  setStrategyState(experimentId: number, key: string, value: unknown): void {
    this.state.set(`${experimentId}/${key}`, structuredClone(value));
  }

  close(): void {}
}

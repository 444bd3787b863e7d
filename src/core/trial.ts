/**
 * A running trial as the objective sees it: define-by-run suggestions (`suggestInt` & co., as in
 * Optuna), intermediate reports, pruning checks and cost charges. Every call is written to the store
 * at once, so nothing reported is lost if the process dies.
 */
import {
  checkSpec,
  containsValue,
  sampleSpec,
  SpaceError,
  type CategoricalParam,
  type FloatParam,
  type IntParam,
  type ParamSpec,
  type ParamValue,
  type Params,
} from '../space/params.js';
import type { TrialCost, TrialRecord } from './store.js';
import type { TrialHost } from './host.js';

/** Throw from an objective (or let `trial.pruneIfNeeded()` throw it) to stop a trial early as PRUNED. */
export class TrialPruned extends Error {
  override name = 'TrialPruned';
  constructor(message = 'pruned') {
    super(message);
  }
}

function sameSpec(a: ParamSpec, b: ParamSpec): boolean {
  const strip = (s: ParamSpec) => JSON.stringify({ ...s, when: undefined });
  return strip(a) === strip(b);
}

export class Trial {
  readonly id: number;
  readonly experimentId: number;
  readonly number: number;
  readonly params: Params;
  /** Simulated seconds charged by tabular evaluators; summed into the experiment's simulated clock. */
  simulatedSeconds = 0;
  /** Extra cost facts (FLOPs, params, memory, backend) an evaluator knows. */
  readonly costExtra: Partial<TrialCost> = {};
  readonly startedAt = Date.now();
  readonly startHr = process.hrtime.bigint();
  readonly startCpu = process.cpuUsage();
  /** What the strategy proposed at ask time (define-by-run suggestions take it when it fits the range). */
  readonly proposed: Params;
  private readonly specs: Record<string, ParamSpec>;
  private readonly stopper = new AbortController();

  constructor(
    private readonly host: TrialHost,
    record: TrialRecord,
    proposed: Params,
  ) {
    this.id = record.id;
    this.experimentId = record.experimentId;
    this.number = record.number;
    this.params = { ...record.params };
    this.specs = { ...record.distributions };
    this.proposed = proposed;
  }

  suggestInt(name: string, low: number, high: number, opts: { step?: number; log?: boolean } = {}): number {
    const spec: IntParam = { type: 'int', low, high, ...opts };
    return this.suggest(name, spec) as number;
  }

  suggestFloat(name: string, low: number, high: number, opts: { step?: number; log?: boolean } = {}): number {
    const spec: FloatParam = { type: 'float', low, high, ...opts };
    return this.suggest(name, spec) as number;
  }

  suggestCategorical<T extends ParamValue>(name: string, choices: readonly T[]): T {
    const spec: CategoricalParam = { type: 'categorical', choices: [...choices] };
    return this.suggest(name, spec) as T;
  }

  /** Suggests a value for any parameter spec (used by architecture spaces). */
  suggest(name: string, spec: ParamSpec): ParamValue {
    const known = this.specs[name];
    if (known && name in this.params) {
      if (!sameSpec(known, spec)) {
        throw new SpaceError(`trial ${this.number}: parameter "${name}" was suggested with two different ranges; use one`);
      }
      return this.params[name]!;
    }
    checkSpec(spec, `suggest("${name}")`);
    let value: ParamValue;
    if (name in this.proposed && containsValue(spec, this.proposed[name]!)) value = this.proposed[name]!;
    else value = this.host.sampleParam(this, name, spec) ?? sampleSpec(spec, this.host.rngFor(this.number, name));
    this.params[name] = value;
    this.specs[name] = spec;
    this.host.store.setParams(this.id, { [name]: value }, { [name]: spec });
    return value;
  }

  /** Records an intermediate objective value (e.g. validation accuracy after an epoch). */
  report(value: number, step: number): void {
    this.host.store.addIntermediate(this.id, step, value);
  }

  /** Whether the experiment's pruner or scheduler wants this trial stopped now, or a stop was requested. */
  shouldPrune(): boolean {
    return this.stopper.signal.aborted || this.host.shouldPrune(this);
  }

  /** Asks the trial to stop: `shouldPrune()` turns true and `signal` aborts (used by executors). */
  requestStop(reason = 'stop requested'): void {
    if (!this.stopper.signal.aborted) this.stopper.abort(reason);
  }

  /** Aborted when a stop is requested; long awaits in an objective can listen to it. */
  get signal(): AbortSignal {
    return this.stopper.signal;
  }

  /** Throws TrialPruned when `shouldPrune()`; call after `report`. */
  pruneIfNeeded(): void {
    if (this.shouldPrune()) throw new TrialPruned(`pruned at step ${this.lastStep() ?? '?'}`);
  }

  private lastStep(): number | undefined {
    return this.host.store.getTrial(this.id)?.intermediate.at(-1)?.step;
  }

  /** Charges simulated seconds (a tabular benchmark's training time) to this trial. */
  charge(seconds: number): void {
    this.simulatedSeconds += seconds;
  }

  setAttr(key: string, value: unknown): void {
    this.host.store.setAttrs(this.id, { [key]: value });
  }

  /** This trial's attributes as stored now (those a strategy set at ask time included). */
  get attrs(): Readonly<Record<string, unknown>> {
    return this.host.store.getTrial(this.id)?.attrs ?? {};
  }

  /** The experiment's trials as stored now (a trial run by an executor away from the store sees only itself). */
  history(): readonly TrialRecord[] {
    return this.host.store.getTrials(this.experimentId);
  }

  /** Wall and CPU seconds since the trial started, plus what evaluators charged. */
  measuredCost(): TrialCost {
    const wall = Number(process.hrtime.bigint() - this.startHr) / 1e9;
    const cpu = process.cpuUsage(this.startCpu);
    return {
      ...this.costExtra,
      wallSeconds: wall,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      simulatedSeconds: this.simulatedSeconds,
    };
  }
}

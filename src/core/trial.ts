/**
 * A running trial as the objective sees it: define-by-run suggestions (`suggestInt` & co., as in
 * Optuna), intermediate reports, pruning checks and cost charges. Every call goes through its sink
 * at once (to the store, or as an event to the loop), so nothing reported is lost if the process dies.
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
import type { IntermediateValue, SystemAttrs, TrialCost, TrialRecord } from './store.js';
import { Rng } from '../util/rng.js';
import type { TrialInit, TrialSink } from './sink.js';

/** Throw from an objective (or let `trial.pruneIfNeeded()` throw it) to stop a trial early as PRUNED. */
export class TrialPruned extends Error {
  override name = 'TrialPruned';
  constructor(message = 'pruned') {
    super(message);
  }
}

/** Throw from an objective to skip a trial without running it (e.g. over a cost cap): PRUNED, marked `system.skipped`. */
export class TrialSkipped extends TrialPruned {
  override name = 'TrialSkipped';
}

function sameSpec(a: ParamSpec, b: ParamSpec): boolean {
  const strip = (s: ParamSpec) => JSON.stringify({ ...s, when: undefined });
  return strip(a) === strip(b);
}

export class Trial {
  readonly id: number;
  readonly experimentId: number;
  readonly number: number;
  readonly seed: number;
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
  /** Define-by-run specs of `params`. */
  readonly specs: Record<string, ParamSpec>;
  /** Intermediate values reported so far, by step. */
  readonly intermediate: IntermediateValue[] = [];
  private readonly ownAttrs: Record<string, unknown>;
  private readonly ownSystem: SystemAttrs;
  /** System attrs this run wrote (`setSystem`), resent with its outcome. */
  readonly systemWritten: SystemAttrs = {};
  private readonly stopper = new AbortController();

  constructor(
    init: TrialInit,
    private readonly sink: TrialSink,
  ) {
    this.id = init.id;
    this.experimentId = init.experimentId;
    this.number = init.number;
    this.seed = init.seed;
    this.params = { ...init.params };
    this.specs = { ...init.distributions };
    this.ownAttrs = { ...init.attrs };
    this.ownSystem = { ...init.system };
    this.proposed = init.proposed ?? {};
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
    else {
      const p = this.sink.propose(name, spec);
      value = p !== undefined && containsValue(spec, p) ? p : sampleSpec(spec, Rng.derive(this.seed, this.number, name));
    }
    this.params[name] = value;
    this.specs[name] = spec;
    this.sink.setParams({ [name]: value }, { [name]: spec });
    return value;
  }

  /** Records an intermediate objective value (e.g. validation accuracy after an epoch). */
  report(value: number, step: number): void {
    const i = this.intermediate.findIndex((iv) => iv.step === step);
    if (i >= 0) this.intermediate[i] = { step, value };
    else this.intermediate.push({ step, value });
    this.sink.report(step, value);
  }

  /** Whether the experiment's pruner or scheduler wants this trial stopped now, or a stop was requested. */
  shouldPrune(): boolean {
    return this.stopper.signal.aborted || this.sink.shouldPrune();
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
    return this.intermediate.at(-1)?.step;
  }

  /** Charges simulated seconds (a tabular benchmark's training time) to this trial. */
  charge(seconds: number): void {
    this.simulatedSeconds += seconds;
  }

  setAttr(key: string, value: unknown): void {
    this.ownAttrs[key] = value;
    this.sink.setAttrs({ [key]: value });
  }

  /** This trial's user attributes (those a strategy set at ask time included). */
  get attrs(): Readonly<Record<string, unknown>> {
    return this.ownAttrs;
  }

  /** Records tsnas-owned facts about this trial (e.g. the trainer's `inherit`), typed and kept apart from user attrs. */
  setSystem(patch: SystemAttrs): void {
    Object.assign(this.ownSystem, patch);
    Object.assign(this.systemWritten, patch);
    this.sink.setAttrs({}, patch);
  }

  /** This trial's system attributes (a scheduler's `job` included). */
  get system(): Readonly<SystemAttrs> {
    return this.ownSystem;
  }

  /** The experiment's trials as stored now (a trial run by an executor away from the store sees only itself). */
  history(): readonly TrialRecord[] {
    return this.sink.history();
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

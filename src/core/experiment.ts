/**
 * Experiment (a.k.a. study): the ask/tell loop over a store. `ask()` lets the strategy propose the
 * next configuration from the history and records a RUNNING trial (or claims one `enqueue` made);
 * `tell()` records its result and cost; `optimize()` runs an objective until a trial count, a
 * simulated-seconds budget or a wall-clock timeout is reached, and `run()` does the same on any
 * executor (one loop, core/loop.ts: in-process is an executor like the pool and BullMQ). Objectives
 * that throw give FAILED trials and the search goes on.
 */
import os from 'node:os';
import { SpaceError, type ParamSpec, type ParamValue, type Params, type SearchSpace } from '../space/params.js';
import type { Pruner } from './pruner.js';
import type {
  Direction,
  ExperimentConfig,
  ExperimentRecord,
  Store,
  SystemAttrs,
  TrialCost,
  TrialRecord,
} from './store.js';
import type { Strategy, StrategyContext } from './strategy.js';
import { TrialNumberTaken } from './errors.js';
import { Rng } from '../util/rng.js';
import { Trial } from './trial.js';
import type { TrialSink } from './sink.js';
import type { Executor, LiveAccess } from './executor.js';
import { commonSpace, completeParams, dynamicProposals } from './decide.js';
import { HistoryCache } from './history.js';
import { bestOf, judge, type StopRules } from './outcome.js';
import { InProcessExecutor } from './inprocess.js';
import { runLoop, type RunOptions } from './loop.js';
import { processAlive } from '../util/process.js';

export { bestOf, isDone, simulatedSpent } from './outcome.js';
export type { RunOptions } from './loop.js';

export type ObjectiveResult = number | number[];
export type Objective = (trial: Trial) => ObjectiveResult | Promise<ObjectiveResult>;

export interface ExperimentOptions {
  store: Store;
  name: string;
  strategy: Strategy;
  /** Declarative space; omit for define-by-run objectives. */
  space?: SearchSpace | null;
  spaceName?: string;
  directions?: Direction[];
  objectiveNames?: string[];
  seed?: number;
  pruner?: Pruner;
  strategyOptions?: Record<string, unknown>;
  meta?: Record<string, unknown>;
  /** A RUNNING trial with no heartbeat for this long is taken as abandoned. Default 60 s. */
  staleSeconds?: number;
  /**
   * RUNNING trials for which this returns true are left RUNNING on open even if their process died:
   * an executor that keeps results outside the process (a Redis queue) recovers them.
   */
  keepRunning?: (trial: TrialRecord) => boolean;
  /**
   * Constraints of a finished (COMPLETE or PRUNED) trial, as Optuna's `constraints_func`: feasible when
   * every value is <= 0. Stored in `attrs.constraints`; tpe and bo model them, `bestTrial` skips
   * infeasible trials. Not stored with the experiment: pass it again when resuming.
   */
  constraints?: (trial: TrialRecord) => number[];
}

export interface OptimizeOptions extends StopRules {
  /** Rethrow objective errors instead of recording FAILED trials. */
  catchErrors?: boolean;
  onTrialEnd?: (trial: TrialRecord, experiment: Experiment) => void;
  /** Trials at once (default 1; more overlap the waits of async objectives). */
  parallelism?: number;
}

export interface TellOptions {
  state?: 'COMPLETE' | 'PRUNED' | 'FAILED';
  cost?: Partial<TrialCost>;
  error?: string;
  attrs?: Record<string, unknown>;
  system?: SystemAttrs;
}

export interface AskOptions {
  /** Written with the trial when it is created (or claimed): the executor that runs it, its objective spec. */
  system?: SystemAttrs;
  /** The trial runs away from this process: ship the strategy's define-by-run proposals with it. */
  remote?: boolean;
}

const HEARTBEAT_MS = 5_000;
/** Decisions retried when other asks keep creating trials first. */
const MAX_ASK_ATTEMPTS = 1000;
export const OWNER = `${os.hostname()}:${process.pid}`;

export class Experiment {
  readonly store: Store;
  readonly record: ExperimentRecord;
  readonly strategy: Strategy;
  readonly pruner: Pruner | undefined;
  private readonly constraints: ((trial: TrialRecord) => number[]) | undefined;
  private readonly running = new Map<number, { trial: Trial; timer: NodeJS.Timeout }>();
  private readonly history: HistoryCache;

  private constructor(opts: ExperimentOptions, record: ExperimentRecord) {
    this.store = opts.store;
    this.record = record;
    this.strategy = opts.strategy;
    this.pruner = opts.pruner;
    this.constraints = opts.constraints;
    this.history = new HistoryCache(opts.store, record.id);
  }

  /** Opens (creating or resuming) the named experiment and fails trials abandoned by dead processes. */
  static open(opts: ExperimentOptions): Experiment {
    const config: ExperimentConfig = {
      directions: opts.directions ?? ['maximize'],
      objectiveNames: opts.objectiveNames,
      strategy: { name: opts.strategy.name, options: opts.strategyOptions },
      space: opts.space ?? null,
      spaceName: opts.spaceName,
      seed: opts.seed ?? 0,
      meta: opts.meta,
    };
    if (config.directions.length === 0) throw new SpaceError('directions: give at least one objective direction');
    const record = opts.store.openExperiment(opts.name, config);
    const stored = record.config;
    if (JSON.stringify(stored.space) !== JSON.stringify(config.space)) {
      throw new SpaceError(
        `experiment "${opts.name}" already exists in this storage with a different search space; use another --name or storage`,
      );
    }
    if (JSON.stringify(stored.directions) !== JSON.stringify(config.directions)) {
      throw new SpaceError(
        `experiment "${opts.name}" already exists with directions ${JSON.stringify(stored.directions)}; use another --name`,
      );
    }
    if (stored.strategy.name !== config.strategy.name || stored.seed !== config.seed) {
      throw new SpaceError(
        `experiment "${opts.name}" was run with --strategy ${stored.strategy.name} --seed ${stored.seed}; ` +
          `resume it with those, or give another --name for --strategy ${config.strategy.name} --seed ${config.seed}`,
      );
    }
    const exp = new Experiment(opts, record);
    exp.failAbandoned(opts.staleSeconds ?? 60, opts.keepRunning);
    return exp;
  }

  get id(): number {
    return this.record.id;
  }
  get name(): string {
    return this.record.name;
  }
  get config(): ExperimentConfig {
    return this.record.config;
  }
  get directions(): Direction[] {
    return this.record.config.directions;
  }
  get seed(): number {
    return this.record.config.seed;
  }

  /** The experiment's trials ordered by number, from the history cache (only changed rows are read). */
  trials(): readonly TrialRecord[] {
    return this.history.all();
  }

  /** One trial as stored now. */
  trial(trialId: number): TrialRecord | undefined {
    this.history.all();
    return this.history.get(trialId);
  }

  /** Marks RUNNING trials of dead local processes, or without a recent heartbeat, as FAILED (abandoned). */
  failAbandoned(staleSeconds: number, keepRunning?: (trial: TrialRecord) => boolean): number {
    let n = 0;
    const host = os.hostname();
    const now = Date.now();
    for (const t of this.store.getTrials(this.id, ['RUNNING'])) {
      if (this.running.has(t.id) || keepRunning?.(t)) continue;
      let why: string | null = null;
      const [h, pidStr] = (t.owner ?? '').split(':');
      const pid = Number(pidStr);
      if (h === host && Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) {
        why = `process ${t.owner} died while running this trial`;
      } else if (t.heartbeatAt !== null && now - t.heartbeatAt > staleSeconds * 1000 && t.owner !== OWNER) {
        why = `no heartbeat from ${t.owner ?? 'its worker'} for ${Math.round((now - t.heartbeatAt) / 1000)} s`;
      }
      if (why && this.store.finishTrial(t.id, { state: 'FAILED', values: null, cost: t.cost, error: why, system: { abandoned: true } })) n++;
    }
    return n;
  }

  /** The space strategies search: the declared one, or for define-by-run the parameters every completed trial shares. */
  searchSpace(history: readonly TrialRecord[]): SearchSpace | null {
    return this.config.space ?? commonSpace(history);
  }

  rngFor(trialNumber: number, purpose: string): Rng {
    return Rng.derive(this.seed, trialNumber, purpose);
  }

  /** What a strategy sees when deciding trial `trialNumber` (default: the next one) from `history`. */
  context(history: readonly TrialRecord[] = this.trials(), trialNumber: number = history.length): StrategyContext {
    return {
      space: this.searchSpace(history),
      history,
      trialNumber,
      seed: this.seed,
      directions: this.directions,
      rng: this.rngFor(trialNumber, 'strategy'),
      state: {
        get: (key) => this.store.getStrategyState(this.id, key),
        set: (key, value) => this.store.setStrategyState(this.id, key, value),
      },
    };
  }

  /** The strategy's value for a define-by-run parameter of trial `number` (its `sampleParam`), from the history without that trial. */
  propose(trialId: number, number: number, name: string, spec: ParamSpec): ParamValue | undefined {
    if (!this.strategy.sampleParam) return undefined;
    const history = this.trials().filter((t) => t.id !== trialId);
    return this.strategy.sampleParam(this.context(history, number), name, spec);
  }

  /** The pruning decision for a running trial, on its values as stored now (every executor path asks this). */
  shouldPrune(trialId: number): boolean {
    if (!this.pruner) return false;
    const rec = this.trial(trialId);
    if (!rec || rec.state !== 'RUNNING') return false;
    return this.pruner.shouldPrune({ trial: rec, history: this.trials(), directions: this.directions });
  }

  /** What a same-process executor's trials may ask while they run. */
  readonly live: LiveAccess = {
    propose: (trialId, name, spec) => {
      const rec = this.trial(trialId);
      return rec ? this.propose(trialId, rec.number, name, spec) : undefined;
    },
    history: () => this.trials(),
  };

  /** The sink of a trial asked by the caller (ask/tell use): writes go to the store at once. */
  private sinkFor(trialId: number, number: number): TrialSink {
    return {
      setParams: (params, specs) => this.store.setParams(trialId, params, specs),
      report: (step, value) => this.store.addIntermediate(trialId, step, value),
      setAttrs: (attrs, system) => this.store.setAttrs(trialId, attrs, system),
      propose: (name, spec) => this.propose(trialId, number, name, spec),
      shouldPrune: () => this.shouldPrune(trialId),
      history: () => this.trials(),
    };
  }

  /**
   * Queues a configuration, as Optuna's `enqueue_trial`: a WAITING trial that the next `ask` claims
   * (in order) before the strategy is asked. With a declared space, missing parameters are drawn and
   * the result is checked; define-by-run objectives get the values from `trial.suggest*`.
   */
  enqueue(params: Params): TrialRecord {
    const space = this.config.space;
    const full = space ? completeParams(space, params, this.rngFor(this.trials().length, 'fill'), 'enqueued params') : { params: {}, specs: {} };
    return this.store.createTrial(this.id, {
      state: 'WAITING',
      params: full.params,
      distributions: full.specs,
      owner: null,
      system: { enqueued: true, ...(space ? {} : { proposed: { ...params } }) },
    });
  }

  /**
   * Asks the strategy for the next configuration and records it as a RUNNING trial, with the attrs
   * the strategy set (`ctx.setAttr`, `ctx.setSystem`) and `opts.system` written in the same step; a WAITING trial
   * (`enqueue`) is claimed first. The trial is created only if no other trial was created since the
   * history the strategy decided from was read (another ask of this process, or another process on
   * the same storage); otherwise the strategy decides again from the new history, so two asks never
   * take the same decision (e.g. promote the same trial twice).
   */
  async ask(fixed: Params = {}, opts: AskOptions = {}): Promise<Trial> {
    for (let attempt = 0; ; attempt++) {
      const claimed = this.claimWaiting(opts);
      if (claimed) return this.started(claimed, claimed.system.proposed ?? {});
      const d = await this.decide(fixed, opts.remote === true);
      const system: SystemAttrs = { ...d.system, ...opts.system };
      if (!this.config.space) system.proposed = d.proposed;
      if (d.dynamic) system.dynamic = d.dynamic;
      let rec: TrialRecord;
      try {
        rec = this.store.createTrial(this.id, {
          state: 'RUNNING',
          params: d.params,
          distributions: d.specs,
          owner: OWNER,
          attrs: d.attrs,
          system,
          expectNumber: d.number,
        });
      } catch (e) {
        if (e instanceof TrialNumberTaken && attempt < MAX_ASK_ATTEMPTS) continue;
        throw e;
      }
      return this.started(rec, d.proposed);
    }
  }

  private claimWaiting(opts: AskOptions): TrialRecord | null {
    for (const t of this.trials()) {
      if (t.state !== 'WAITING') continue;
      if (this.store.claimTrial(t.id, OWNER, opts.system)) return this.store.getTrial(t.id);
    }
    return null;
  }

  private started(rec: TrialRecord, proposed: Params): Trial {
    const trial = new Trial({ ...rec, seed: this.seed, proposed }, this.sinkFor(rec.id, rec.number));
    const timer = setInterval(() => this.store.heartbeat(rec.id), HEARTBEAT_MS);
    timer.unref();
    this.running.set(rec.id, { trial, timer });
    return trial;
  }

  /** The strategy's decision for the next trial number from the current history. */
  private async decide(fixed: Params, remote: boolean) {
    const history = this.trials();
    const number = history.length;
    const attrs: Record<string, unknown> = {};
    const system: SystemAttrs = {};
    const ctx: StrategyContext = {
      ...this.context(history, number),
      setAttr: (key, value) => void (attrs[key] = value),
      setSystem: (patch) => void Object.assign(system, patch),
    };
    const proposed = { ...(await this.strategy.ask(ctx)), ...fixed };
    // Declarative: complete the proposal (strategies may propose part of it) and check it.
    const { params, specs } = this.config.space
      ? completeParams(this.config.space, proposed, this.rngFor(number, 'fill'), `strategy ${this.strategy.name} proposed params`)
      : { params: {}, specs: {} };
    const dynamic = remote && !this.config.space ? dynamicProposals(this.strategy, this.context(history, number), proposed) : undefined;
    return { number, params, specs, proposed, attrs, system, dynamic };
  }

  /** Records a trial's result. Values may be one number per objective; cost defaults to what was measured. */
  async tell(trial: Trial | number, values: ObjectiveResult | null, opts: TellOptions = {}): Promise<TrialRecord> {
    const id = typeof trial === 'number' ? trial : trial.id;
    const live = this.running.get(id);
    if (live) {
      clearInterval(live.timer);
      this.running.delete(id);
    }
    const measured = live ? live.trial.measuredCost() : { wallSeconds: 0, cpuSeconds: 0, simulatedSeconds: 0 };
    let state = opts.state ?? 'COMPLETE';
    let error = opts.error ?? null;
    let finalValues = values === null ? null : Array.isArray(values) ? values : [values];
    if (state === 'COMPLETE') ({ state, values: finalValues, error } = judge(values, this.directions.length));
    if (state === 'FAILED') finalValues = null;
    const attrs = state === 'FAILED' ? opts.attrs : this.constraintAttrs(id, state, finalValues, opts.attrs);
    const ok = this.store.finishTrial(id, { state, values: finalValues, cost: { ...measured, ...opts.cost }, error, attrs, system: opts.system });
    const rec = this.trial(id) ?? this.store.getTrial(id)!;
    if (!ok) return rec;
    if (this.strategy.tell) await this.strategy.tell(this.context(this.trials(), rec.number), rec);
    return rec;
  }

  /** `attrs` plus the trial's constraint values, computed on the record as it will be stored (throws on a bad return). */
  private constraintAttrs(id: number, state: TrialRecord['state'], values: number[] | null, attrs?: Record<string, unknown>): Record<string, unknown> | undefined {
    if (!this.constraints) return attrs;
    const cur = this.trial(id);
    if (!cur) return attrs;
    const c = this.constraints({ ...cur, state, values, attrs: { ...cur.attrs, ...attrs } });
    if (!Array.isArray(c) || c.some((v) => typeof v !== 'number')) {
      throw new TypeError(`constraints(trial ${cur.number}) returned ${JSON.stringify(c)}; return an array of numbers (feasible when all are <= 0)`);
    }
    return { ...attrs, constraints: c };
  }

  /** Runs `objective` in this process, trial after trial, until a stop condition holds. Returns the trials it ran. */
  async optimize(objective: Objective, opts: OptimizeOptions = {}): Promise<TrialRecord[]> {
    const { parallelism, ...rest } = opts;
    return runLoop(this, new InProcessExecutor({ objective, slots: parallelism ?? 1 }), { ...rest, parallelism });
  }

  /** Runs the search on `executor` (the same loop as `optimize`) until a stop condition holds and nothing is in flight. */
  async run<O>(executor: Executor<O>, opts: RunOptions<O>): Promise<TrialRecord[]> {
    return runLoop(this, executor, opts);
  }

  /** The best feasible COMPLETE trial by the first objective (ties: the earlier one). */
  bestTrial(): TrialRecord | null {
    return bestOf(this.trials(), this.directions);
  }
}

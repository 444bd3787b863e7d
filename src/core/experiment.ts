/**
 * Experiment (a.k.a. study): the ask/tell loop over a store. `ask()` lets the strategy propose the
 * next configuration from the stored history and records a RUNNING trial; `tell()` records its
 * result and cost; `optimize()` runs an objective in a loop until a trial count, a simulated-seconds
 * budget or a wall-clock timeout is reached. Objectives that throw give FAILED trials and the
 * search goes on.
 */
import os from 'node:os';
import {
  isActive,
  sampleSpec,
  SpaceError,
  validateParams,
  type ParamSpec,
  type ParamValue,
  type Params,
  type SearchSpace,
} from '../space/params.js';
import type { Pruner } from './pruner.js';
import type {
  Direction,
  ExperimentConfig,
  ExperimentRecord,
  Store,
  TrialCost,
  TrialRecord,
} from './store.js';
import type { Strategy, StrategyContext } from './strategy.js';
import { score, violation } from './strategy.js';
import { SearchExhausted } from './errors.js';
import { TrialNumberTaken } from './errors.js';
import { Rng } from '../util/rng.js';
import type { TrialHost } from './host.js';
import { Trial, TrialPruned } from './trial.js';
import { processAlive } from '../util/process.js';

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

export interface OptimizeOptions {
  /** Stop once this many trials are done in the experiment (COMPLETE, PRUNED or FAILED by its objective). */
  nTrials?: number;
  /** Stop once the experiment's simulated clock (sum of charged seconds) reaches this. */
  budgetSeconds?: number;
  /** Stop starting trials after this many wall-clock seconds of this call. */
  timeoutSeconds?: number;
  /** Rethrow objective errors instead of recording FAILED trials. */
  catchErrors?: boolean;
  onTrialEnd?: (trial: TrialRecord, experiment: Experiment) => void;
  signal?: AbortSignal;
}

export interface TellOptions {
  state?: 'COMPLETE' | 'PRUNED' | 'FAILED';
  cost?: Partial<TrialCost>;
  error?: string;
  attrs?: Record<string, unknown>;
}

const HEARTBEAT_MS = 5_000;
/** Decisions retried when other asks keep creating trials first. */
const MAX_ASK_ATTEMPTS = 1000;
export const OWNER = `${os.hostname()}:${process.pid}`;

/** Whether a trial counts toward nTrials: abandoned trials (dead process) do not. */
export function isDone(t: TrialRecord): boolean {
  if (t.state === 'COMPLETE' || t.state === 'PRUNED') return true;
  return t.state === 'FAILED' && t.attrs.abandoned !== true;
}

export class Experiment implements TrialHost {
  readonly store: Store;
  readonly record: ExperimentRecord;
  readonly strategy: Strategy;
  readonly pruner: Pruner | undefined;
  private readonly constraints: ((trial: TrialRecord) => number[]) | undefined;
  private readonly running = new Map<number, { trial: Trial; timer: NodeJS.Timeout; proposed: Params }>();

  private constructor(opts: ExperimentOptions, record: ExperimentRecord) {
    this.store = opts.store;
    this.record = record;
    this.strategy = opts.strategy;
    this.pruner = opts.pruner;
    this.constraints = opts.constraints;
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

  trials(): readonly TrialRecord[] {
    return this.store.getTrials(this.id);
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
      if (why && this.store.finishTrial(t.id, { state: 'FAILED', values: null, cost: t.cost, error: why, attrs: { abandoned: true } })) n++;
    }
    return n;
  }

  /** The space strategies search: the declared one, or for define-by-run the parameters every completed trial shares. */
  searchSpace(history: readonly TrialRecord[]): SearchSpace | null {
    if (this.config.space) return this.config.space;
    let common: Record<string, ParamSpec> | null = null;
    for (const t of history) {
      if (t.state !== 'COMPLETE') continue;
      if (common === null) {
        common = { ...t.distributions };
        continue;
      }
      for (const [k, spec] of Object.entries(common)) {
        const other = t.distributions[k];
        if (!other || JSON.stringify(other) !== JSON.stringify(spec)) delete common[k];
      }
    }
    return common && Object.keys(common).length > 0 ? { params: common } : null;
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

  sampleParam(trial: Trial, name: string, spec: ParamSpec): ParamValue | undefined {
    if (!this.strategy.sampleParam) return undefined;
    const history = this.trials().filter((t) => t.id !== trial.id);
    return this.strategy.sampleParam(this.context(history, trial.number), name, spec);
  }

  shouldPrune(trial: Trial): boolean {
    if (!this.pruner) return false;
    const history = this.trials();
    const rec = history.find((t) => t.id === trial.id);
    if (!rec) return false;
    return this.pruner.shouldPrune({ trial: rec, history, directions: this.directions });
  }

  /**
   * Asks the strategy for the next configuration and records it as a RUNNING trial, with the attrs
   * the strategy set (`ctx.setAttr`) written in the same step. The trial is created only if no other
   * trial was created since the history the strategy decided from was read (another ask of this
   * process, or another process on the same storage); otherwise the strategy decides again from the
   * new history, so two asks never take the same decision (e.g. promote the same trial twice).
   */
  async ask(fixed: Params = {}): Promise<Trial> {
    for (let attempt = 0; ; attempt++) {
      const d = await this.decide(fixed);
      let rec: TrialRecord;
      try {
        rec = this.store.createTrial(this.id, {
          state: 'RUNNING',
          params: d.params,
          distributions: d.specs,
          owner: OWNER,
          attrs: d.attrs,
          expectNumber: d.number,
        });
      } catch (e) {
        if (e instanceof TrialNumberTaken && attempt < MAX_ASK_ATTEMPTS) continue;
        throw e;
      }
      const trial = new Trial(this, rec, d.proposed);
      const timer = setInterval(() => this.store.heartbeat(rec.id), HEARTBEAT_MS);
      timer.unref();
      this.running.set(rec.id, { trial, timer, proposed: d.proposed });
      return trial;
    }
  }

  /** The strategy's decision for the next trial number from the current history. */
  private async decide(fixed: Params) {
    const history = this.trials();
    const number = history.length;
    const attrs: Record<string, unknown> = {};
    const ctx: StrategyContext = { ...this.context(history, number), setAttr: (key, value) => void (attrs[key] = value) };
    const proposed = { ...(await this.strategy.ask(ctx)), ...fixed };
    const space = ctx.space;
    const params: Params = {};
    const specs: Record<string, ParamSpec> = {};
    if (this.config.space && space) {
      // Declarative: complete the proposal (strategies may propose part of it) and check it.
      const rng = this.rngFor(number, 'fill');
      for (const [name, spec] of Object.entries(space.params)) {
        if (!isActive(spec, params)) continue;
        params[name] = name in proposed ? proposed[name]! : sampleSpec(spec, rng);
        specs[name] = spec;
      }
      validateParams(space, params, `strategy ${this.strategy.name} proposed params`);
    }
    return { number, params, specs, proposed, attrs };
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
    const arr = values === null ? null : Array.isArray(values) ? values : [values];
    let state = opts.state ?? 'COMPLETE';
    let error = opts.error ?? null;
    if (state === 'COMPLETE') {
      if (!arr || arr.length !== this.directions.length) {
        state = 'FAILED';
        error = `objective returned ${JSON.stringify(values)}; expected ${this.directions.length} number(s)`;
      } else if (arr.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
        state = 'FAILED';
        error = `objective returned a non-finite value (${arr.map((v) => (typeof v === 'number' ? String(v) : JSON.stringify(v))).join(', ')})`;
      }
    }
    const finalValues = state === 'FAILED' ? null : arr;
    const attrs = state === 'FAILED' ? opts.attrs : this.constraintAttrs(id, state, finalValues, opts.attrs);
    const ok = this.store.finishTrial(id, {
      state,
      values: finalValues,
      cost: { ...measured, ...opts.cost },
      error,
      attrs,
    });
    const rec = this.store.getTrial(id)!;
    if (!ok) return rec;
    if (this.strategy.tell) await this.strategy.tell(this.context(this.trials(), rec.number), rec);
    return rec;
  }

  /** `attrs` plus the trial's constraint values, computed on the record as it will be stored (throws on a bad return). */
  private constraintAttrs(id: number, state: TrialRecord['state'], values: number[] | null, attrs?: Record<string, unknown>): Record<string, unknown> | undefined {
    if (!this.constraints) return attrs;
    const cur = this.store.getTrial(id);
    if (!cur) return attrs;
    const c = this.constraints({ ...cur, state, values, attrs: { ...cur.attrs, ...attrs } });
    if (!Array.isArray(c) || c.some((v) => typeof v !== 'number')) {
      throw new TypeError(`constraints(trial ${cur.number}) returned ${JSON.stringify(c)}; return an array of numbers (feasible when all are <= 0)`);
    }
    return { ...attrs, constraints: c };
  }

  /** Runs `objective` trial after trial until a stop condition holds. Returns the trials it ran. */
  async optimize(objective: Objective, opts: OptimizeOptions = {}): Promise<TrialRecord[]> {
    const started = Date.now();
    const ran: TrialRecord[] = [];
    for (;;) {
      if (opts.signal?.aborted) break;
      if (opts.timeoutSeconds !== undefined && Date.now() - started >= opts.timeoutSeconds * 1000) break;
      if (opts.nTrials !== undefined || opts.budgetSeconds !== undefined) {
        const all = this.trials();
        if (opts.nTrials !== undefined && all.filter(isDone).length >= opts.nTrials) break;
        if (opts.budgetSeconds !== undefined && simulatedSpent(all) >= opts.budgetSeconds) break;
      }
      let trial: Trial;
      try {
        trial = await this.ask();
      } catch (e) {
        if (e instanceof SearchExhausted) break;
        throw e;
      }
      let rec: TrialRecord;
      try {
        const v = await objective(trial);
        rec = await this.tell(trial, v);
      } catch (e) {
        const err = e as Error;
        if (e instanceof TrialPruned) {
          const last = this.store.getTrial(trial.id)?.intermediate.at(-1);
          rec = await this.tell(trial, last ? [last.value] : null, { state: 'PRUNED', error: err.message });
        } else {
          rec = await this.tell(trial, null, { state: 'FAILED', error: err?.message ?? String(e) });
          if (opts.catchErrors === false) throw e;
        }
      }
      ran.push(rec);
      opts.onTrialEnd?.(rec, this);
    }
    return ran;
  }

  /** The best feasible COMPLETE trial by the first objective (ties: the earlier one). */
  bestTrial(): TrialRecord | null {
    return bestOf(this.trials(), this.directions);
  }
}

export function simulatedSpent(trials: readonly TrialRecord[]): number {
  let s = 0;
  for (const t of trials) s += t.cost.simulatedSeconds;
  return s;
}

/**
 * The best feasible COMPLETE trial by the first objective (ties: the earlier one; a trial whose
 * `attrs.constraints` has a positive value is infeasible and never best). Trials run by a
 * multi-fidelity scheduler (`attrs.job.budget`) compete only at the largest budget any of them
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
  const b = (t.attrs.job as { budget?: unknown } | undefined)?.budget;
  return typeof b === 'number' ? b : null;
}

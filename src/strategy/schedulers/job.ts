/**
 * Job-based multi-fidelity schedulers. A scheduler is a Strategy that decides, from the stored
 * history alone, the next *job*: either a new configuration at the first rung, or the promotion of
 * a configuration that finished rung i to rung i + 1 (the trial continues where its parent stopped,
 * so it pays only the extra budget). Each job is one trial; its job (bracket, rung, budget, parent)
 * is stored in `system.job` by the ask that creates the trial (`ctx.setSystem`), so decisions survive
 * resume and several workers can share a store: a RUNNING job counts as taken, and two asks cannot
 * both promote one configuration (Experiment.ask decides again if another trial was created first).
 *
 *   const hb = new Hyperband({ budgets: [12, 200], eta: 3 });
 *   const exp = Experiment.open({ store, name, strategy: hb, space, seed });
 *   await exp.optimize(hb.wrap((trial, job) => train(trial.params, job.previousBudget, job.budget)));
 *
 * The wrapped objective must report its value at `job.budget` (`trial.report(value, job.budget)`)
 * and return it; schedulers rank the rung by the returned value. `jobObjective` does the same
 * without the scheduler at hand (a trial process of an executor reads the job from the trial's system attrs).
 */
import type { Objective } from '../../core/experiment.js';
import type { Trial } from '../../core/trial.js';
import { paramsKey, sampleSpace, type Params } from '../../space/params.js';
import type { SchedulerJob, TrialRecord } from '../../core/store.js';
import { score, type Strategy, type StrategyContext } from '../../core/strategy.js';

/** A trial's job: bracket, rung, budget and parent (stored as `system.job`). */
export type Job = SchedulerJob;

export type JobObjective = (trial: Trial, job: Job) => number | Promise<number>;

export interface JobTrial {
  trial: TrialRecord;
  job: Job;
  /** Score to maximise (sign-flipped for minimisation); null unless COMPLETE with a finite value. */
  score: number | null;
}

/** The job stored on a trial, if any. */
export function jobOf(t: Pick<TrialRecord, 'system'>): Job | null {
  const j = t.system.job;
  return j && typeof j === 'object' && typeof j.budget === 'number' ? j : null;
}

export interface Decision {
  job: Job;
  /** Parameters of a continued configuration; omitted for a new one (the scheduler samples it). */
  params?: Params;
}

/** A trial still holds its slot unless its process died (abandoned trials are re-issued). */
function holdsSlot(t: TrialRecord): boolean {
  return !(t.state === 'FAILED' && t.system.abandoned === true);
}

export abstract class JobScheduler implements Strategy {
  abstract readonly name: string;

  /** The next job from the history's jobs. */
  protected abstract decide(ctx: StrategyContext, jobs: JobTrial[]): Decision;

  /** A new configuration for `job` (rung 0). Default: uniform random, avoiding seen configurations. */
  protected sample(ctx: StrategyContext, _job: Job): Params | Promise<Params> {
    if (!ctx.space) return {};
    const seen = new Set(ctx.history.map((t) => paramsKey(t.params)));
    let p = sampleSpace(ctx.space, ctx.rng);
    for (let i = 0; i < 100 && seen.has(paramsKey(p)); i++) p = sampleSpace(ctx.space, ctx.rng);
    return p;
  }

  /** Jobs of the history (abandoned trials excluded), in trial order. */
  jobs(ctx: Pick<StrategyContext, 'history' | 'directions'>): JobTrial[] {
    const out: JobTrial[] = [];
    for (const t of ctx.history) {
      const job = jobOf(t);
      if (!job || job.scheduler !== this.name || !holdsSlot(t)) continue;
      out.push({ trial: t, job, score: score(t, ctx.directions) });
    }
    return out;
  }

  ask(ctx: StrategyContext): Params | Promise<Params> {
    if (!ctx.setSystem) throw new Error(`scheduler ${this.name}: ask through Experiment.ask, which stores each trial's job`);
    const d = this.decide(ctx, this.jobs(ctx));
    ctx.setSystem({ job: d.job });
    return d.params ?? this.sample(ctx, d.job);
  }

  /** Turns a job objective into an Experiment objective for this scheduler's trials. */
  wrap(objective: JobObjective): Objective {
    return jobObjective(objective, this.name);
  }
}

/**
 * An Experiment objective that runs `objective` at the job a scheduler stored on the trial (only
 * jobs of scheduler `scheduler`, when given).
 */
export function jobObjective(objective: JobObjective, scheduler?: string): Objective {
  return (trial: Trial) => {
    const job = jobOf(trial);
    if (!job || (scheduler !== undefined && job.scheduler !== scheduler)) {
      throw new Error(`trial ${trial.number} has no job of scheduler ${scheduler ?? '(any)'}; ask it through a multi-fidelity scheduler (hyperband, sh, asha, bohb)`);
    }
    return objective(trial, job);
  };
}

/** Ranks finished jobs best first (ties: earlier trial first); non-COMPLETE jobs are left out. */
export function ranked(jobs: readonly JobTrial[]): JobTrial[] {
  return jobs.filter((j) => j.score !== null).sort((a, b) => b.score! - a.score! || a.trial.number - b.trial.number);
}

/**
 * In-process executor: runs trials in this process, through the same seam as the pool and BullMQ
 * (`Experiment.optimize` uses it; with several slots, async objectives overlap their waits). Its
 * trials use the listener's live access: define-by-run suggestions ask the strategy at suggest time.
 * A crash of the objective's process is a crash of the search; use the pool for isolation.
 */
import type { Objective } from './experiment.js';
import type { Trial } from './trial.js';
import { runTrialJob } from './job-trial.js';
import { brokenOutcome, errorMessage, type Executor, type ExecutorListener, type TrialJob } from './executor.js';

export interface InProcessOptions<O = unknown> {
  /** Trials at once (default 1). */
  slots?: number;
  /** The objective every job runs (else `resolve` turns the job's objective spec into one). */
  objective?: Objective;
  resolve?: (spec: O) => Promise<Objective>;
  /** Called with each Trial before its objective runs (e.g. to attach an artifact store). */
  onTrial?: (trial: Trial) => void;
}

export class InProcessExecutor<O = unknown> implements Executor<O> {
  readonly kind = 'inprocess' as const;
  readonly slots: number;
  private listener: ExecutorListener | null = null;
  private readonly live = new Map<number, Trial | null>();
  private readonly stopped = new Set<number>();

  constructor(private readonly opts: InProcessOptions<O> = {}) {
    this.slots = opts.slots ?? 1;
  }

  async start(listener: ExecutorListener): Promise<void> {
    this.listener = listener;
  }

  async submit(job: TrialJob<O>): Promise<void> {
    const listener = this.listener;
    if (!listener) throw new Error('InProcessExecutor: call start() before submit()');
    this.live.set(job.trialId, null);
    void (async () => {
      let outcome;
      try {
        const objective = this.opts.objective ?? (await this.resolve(job.objective));
        outcome = await runTrialJob(job, objective, (e) => listener.event(job.trialId, e), {
          live: listener.live,
          onTrial: (t) => {
            this.opts.onTrial?.(t);
            this.live.set(job.trialId, t);
            if (this.stopped.has(job.trialId)) t.requestStop();
          },
        });
      } catch (e) {
        outcome = brokenOutcome('FAILED', errorMessage(e));
      }
      this.live.delete(job.trialId);
      this.stopped.delete(job.trialId);
      listener.end(job.trialId, outcome);
    })();
  }

  private resolve(spec: O): Promise<Objective> {
    if (!this.opts.resolve) throw new Error('InProcessExecutor: give an objective or a resolve function');
    return this.opts.resolve(spec);
  }

  stop(trialId: number): void {
    if (!this.live.has(trialId)) return;
    this.stopped.add(trialId);
    this.live.get(trialId)?.requestStop();
  }

  async close(): Promise<void> {
    for (const id of this.live.keys()) this.stop(id);
  }
}

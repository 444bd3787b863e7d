/**
 * In-process executor: runs trials in this process (for debugging, and for async objectives that
 * overlap their waits). A crash of the objective's process is a crash of the search; use the pool.
 */
import type { Objective } from '../core/experiment.js';
import type { Trial } from '../core/trial.js';
import type { ArtifactStore } from '../store/artifacts.js';
import { resolveObjectiveSpec } from './objective-spec.js';
import { runTrialJob } from './remote-trial.js';
import { brokenOutcome, errorMessage, type Executor, type ExecutorListener, type TrialJob } from './types.js';

export interface InProcessOptions {
  /** Trials at once (default 1). */
  slots?: number;
  /** Use this function instead of resolving the job's objective spec. */
  objective?: Objective;
  artifacts?: ArtifactStore | null;
}

export class InProcessExecutor implements Executor {
  readonly kind = 'inprocess' as const;
  readonly slots: number;
  private listener: ExecutorListener | null = null;
  private readonly live = new Map<number, Trial | null>();
  private readonly stopped = new Set<number>();

  constructor(private readonly opts: InProcessOptions = {}) {
    this.slots = opts.slots ?? 1;
  }

  async start(listener: ExecutorListener): Promise<void> {
    this.listener = listener;
  }

  async submit(job: TrialJob): Promise<void> {
    const listener = this.listener;
    if (!listener) throw new Error('InProcessExecutor: call start() before submit()');
    this.live.set(job.trialId, null);
    void (async () => {
      let outcome;
      try {
        const objective = this.opts.objective ?? (await resolveObjectiveSpec(job.objective));
        outcome = await runTrialJob(job, objective, (e) => listener.event(job.trialId, e), {
          artifacts: this.opts.artifacts,
          onTrial: (t) => {
            this.live.set(job.trialId, t);
            if (this.stopped.has(job.trialId)) t.requestStop();
          },
        });
      } catch (e) {
        const error = errorMessage(e);
        outcome = brokenOutcome('FAILED', error);
      }
      this.live.delete(job.trialId);
      this.stopped.delete(job.trialId);
      listener.end(job.trialId, outcome);
    })();
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

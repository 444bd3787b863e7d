/** A local-pool child process: runs the trials its parent sends, one at a time, over IPC. */
import { Worker as WorkerThread } from 'node:worker_threads';
import type { Trial } from '../core/trial.js';
import { resolveObjectiveSpec } from './objective-spec.js';
import { runTrialJob } from '../core/job-trial.js';
import { brokenOutcome, errorMessage, type TrialOutcome } from './types.js';
import type { ChildMsg, ParentMsg } from './pool.js';

const send = (m: ChildMsg): void => {
  process.send?.(m);
};
const live = new Map<number, Trial>();
const stopped = new Set<number>();

process.on('message', (m: ParentMsg) => {
  if (m.type === 'stop') {
    stopped.add(m.trialId);
    live.get(m.trialId)?.requestStop();
    return;
  }
  const job = m.job;
  void (async () => {
    let outcome: TrialOutcome;
    try {
      const objective = await resolveObjectiveSpec(job.objective);
      outcome = await runTrialJob(job, objective, (e) => send({ type: 'event', trialId: job.trialId, e }), {
        onTrial: (t) => {
          live.set(job.trialId, t);
          if (stopped.has(job.trialId)) t.requestStop();
        },
      });
    } catch (e) {
      outcome = brokenOutcome('FAILED', errorMessage(e));
    }
    live.delete(job.trialId);
    stopped.delete(job.trialId);
    send({ type: 'end', trialId: job.trialId, outcome });
  })();
});
// The parent is gone (even killed with -9): nobody will read our results.
process.on('disconnect', () => process.exit(0));
// A trial in a synchronous loop never sees 'disconnect': a watchdog thread (its own event loop) kills
// this process once it is orphaned (the parent pid changes).
const watchdog = new WorkerThread(
  `const { workerData } = require('node:worker_threads');
   setInterval(() => { if (process.ppid !== workerData) process.kill(process.pid, 'SIGKILL'); }, 500);`,
  { eval: true, workerData: process.ppid },
);
watchdog.unref();
send({ type: 'ready' });

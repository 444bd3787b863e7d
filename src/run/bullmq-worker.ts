/**
 * The worker side of the BullMQ executor (`tsnas worker`): consumes trial jobs, runs each in an inner
 * executor (a local pool by default, so a crashing or out-of-memory trial fails alone; or in-process),
 * streams events as job progress, polls the trial's stop key, and returns the outcome as the job's
 * result. It runs only what its trust allows (./trust.ts: objective modules on its allow-list, data
 * under its data roots); any other job fails at once, before a file is opened. If this process dies mid-trial, BullMQ's stalled-job check (on any live worker) re-queues
 * the job after `lockMs`; the coordinator records whichever run finishes, once.
 */
import os from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { Objective } from '../core/experiment.js';
import { InProcessExecutor } from './inprocess.js';
import { LocalPoolExecutor } from './pool.js';
import { redactDataErrors } from './objective-spec.js';
import { checkRedis, connectRedis, parseRedisUrl, watchRedis, type RedisUnavailable } from './redis.js';
import { checkTrusted, resolveTrust, type WorkerTrust } from './trust.js';
import { stopKey } from './bullmq.js';
import type { Executor, TrialJob, TrialOutcome } from './types.js';
import { openArtifactStore } from '../store/artifacts.js';

export const WORKER_ID = `${os.hostname()}:${process.pid}`;

export interface WorkerOptions extends WorkerTrust {
  url: string;
  queue?: string;
  /** Trials at once (default 1). */
  concurrency?: number;
  /** 'pool' (child processes, default) or 'inprocess'. */
  runner?: 'pool' | 'inprocess';
  /** In-process runner only: use this objective instead of the job's spec (benchmarks, tests; nothing of the job is loaded). */
  objective?: Objective;
  maxOldSpaceMb?: number;
  /** Job lock: a job whose worker stops renewing it for this long is re-run elsewhere (default 30 s). */
  lockMs?: number;
  /** How often this worker looks for stalled jobs (default lockMs / 2). */
  stalledMs?: number;
  /** How often a running trial's stop key is checked (default 250 ms). */
  stopPollMs?: number;
  /** Shared artifact location (a directory or redis://...), given to trials. */
  artifacts?: string;
  redisTimeoutS?: number;
  onRedisLost?: (e: RedisUnavailable) => void;
  forwardStderr?: boolean;
}

export interface TrialWorker {
  readonly worker: Worker;
  /** Trials this worker finished. */
  readonly done: () => number;
  close(): Promise<void>;
}

export async function startWorker(opts: WorkerOptions): Promise<TrialWorker> {
  const trust = resolveTrust(opts);
  await checkRedis(opts.url);
  const queue = opts.queue ?? 'tsnas';
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const lockMs = opts.lockMs ?? 30_000;
  const env: Record<string, string> = { TSNAS_REDACT_DATA_ERRORS: '1', ...(opts.artifacts ? { TSNAS_ARTIFACTS: opts.artifacts } : {}) };
  if (opts.runner === 'inprocess') redactDataErrors(true);
  const inner: Executor =
    opts.runner === 'inprocess'
      ? new InProcessExecutor({ slots: concurrency, objective: opts.objective, artifacts: opts.artifacts ? openArtifactStore(opts.artifacts) : null })
      : new LocalPoolExecutor({ size: concurrency, maxOldSpaceMb: opts.maxOldSpaceMb, env, forwardStderr: opts.forwardStderr });
  const waiting = new Map<number, { job: Job; resolve: (o: TrialOutcome) => void }>();
  let done = 0;
  await inner.start({
    event: (trialId, e) => {
      void waiting.get(trialId)?.job.updateProgress(e as unknown as object).catch(() => {});
    },
    end: (trialId, outcome) => waiting.get(trialId)?.resolve(outcome),
  });
  const redis = connectRedis(opts.url);
  const worker = new Worker(
    queue,
    async (job: Job) => {
      const tj = job.data as TrialJob;
      // Refused jobs fail here with the reason as the job's error; nothing named in them is opened.
      if (!opts.objective) checkTrusted(tj?.objective, trust);
      // Two experiments' trials with the same id on this worker: run them one after the other.
      while (waiting.has(tj.trialId)) await new Promise((r) => setTimeout(r, 50));
      const result = new Promise<TrialOutcome>((resolve) => waiting.set(tj.trialId, { job, resolve }));
      const key = stopKey(queue, job.id!);
      const poll = setInterval(() => {
        redis.exists(key).then((n) => n === 1 && inner.stop(tj.trialId), () => {});
      }, opts.stopPollMs ?? 250);
      try {
        await inner.submit(tj);
        const outcome = await result;
        done++;
        return { ...outcome, worker: WORKER_ID };
      } finally {
        clearInterval(poll);
        waiting.delete(tj.trialId);
      }
    },
    {
      connection: { ...parseRedisUrl(opts.url), maxRetriesPerRequest: null },
      concurrency,
      lockDuration: lockMs,
      stalledInterval: opts.stalledMs ?? Math.max(500, Math.floor(lockMs / 2)),
      maxStalledCount: 3,
      drainDelay: 1,
    },
  );
  worker.on('error', () => {});
  const unwatch = watchRedis(redis, opts.url, opts.redisTimeoutS ?? 30, (e) => {
    if (opts.onRedisLost) opts.onRedisLost(e);
  });
  await worker.waitUntilReady();
  return {
    worker,
    done: () => done,
    close: async () => {
      unwatch();
      await worker.close();
      await inner.close();
      redis.disconnect();
    },
  };
}

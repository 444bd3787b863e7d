/** Parallel and distributed execution: executors, the coordinator loop, workers, artifacts. */
import { randomUUID } from 'node:crypto';
import type { Experiment } from '../core/experiment.js';
import type { Store, TrialRecord } from '../core/store.js';
import { BullmqExecutor } from './bullmq.js';
import { InProcessExecutor } from './inprocess.js';
import { LocalPoolExecutor } from './pool.js';
import type { Executor } from './types.js';

export * from './types.js';
export * from './objective-spec.js';
export * from '../store/artifacts.js';
export { runWithExecutor, type RunOptions } from './coordinator.js';
export { InProcessExecutor } from './inprocess.js';
export { checkPoolSize, LocalPoolExecutor, maxPoolSize, PoolSizeError, type PoolOptions } from './pool.js';
export { BullmqExecutor, type BullmqOptions } from './bullmq.js';
export { startWorker, type WorkerOptions, type TrialWorker } from './bullmq-worker.js';
export { checkRedis, insecureRedisWarning, parseRedisUrl, redactUrl, RedisUnavailable } from './redis.js';
export { checkTrusted, resolveTrust, UntrustedJob, type WorkerTrust } from './trust.js';

export type { ExecutorKind } from '../core/executor.js';
import type { ExecutorKind } from '../core/executor.js';

export interface ExecutorChoice {
  executor: ExecutorKind;
  workers?: number;
  redis?: string;
  queue?: string;
  maxOldSpaceMb?: number;
  artifacts?: string;
}

/** Trials of a durable executor survive a coordinator restart: pass this as ExperimentOptions.keepRunning. */
export function keepRunningFor(kind: ExecutorKind): ((t: TrialRecord) => boolean) | undefined {
  return kind === 'bullmq' ? (t) => t.system.executor === 'bullmq' : undefined;
}

/** The experiment's queue key, kept in its store so a restarted coordinator finds its jobs. */
export function runKeyOf(store: Store, exp: Experiment): string {
  const k = store.getStrategyState(exp.id, 'run.bullmq.key');
  if (typeof k === 'string') return k;
  const key = randomUUID().slice(0, 12);
  store.setStrategyState(exp.id, 'run.bullmq.key', key);
  return key;
}

export function createExecutor(c: ExecutorChoice, exp: Experiment): Executor {
  if (c.executor === 'inprocess') return new InProcessExecutor({ slots: c.workers ?? 1 });
  if (c.executor === 'pool') {
    return new LocalPoolExecutor({ size: c.workers, maxOldSpaceMb: c.maxOldSpaceMb, env: c.artifacts ? { TSNAS_ARTIFACTS: c.artifacts } : undefined });
  }
  if (!c.redis) throw new Error('--executor bullmq needs --redis redis://HOST:PORT');
  return new BullmqExecutor({ url: c.redis, queue: c.queue, slots: c.workers ?? 4, runKey: runKeyOf(exp.store, exp) });
}

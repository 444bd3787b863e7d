/**
 * How many threads one training run gets (no tfjs here: the local pool imports it). A local pool
 * tells its trial processes how many of them run at once through TSNAS_POOL_WORKERS, so that trials
 * in parallel processes and threads within a trial do not oversubscribe the cores.
 */
import os from 'node:os';

export const POOL_WORKERS_ENV = 'TSNAS_POOL_WORKERS';

/**
 * Threads for one training run: a number as given; 'auto' = the cores divided among the trial
 * processes running at once (TSNAS_POOL_WORKERS, set by the local pool; 1 otherwise), at least 1.
 */
export function trainingThreads(threads: number | 'auto' = 'auto', env: NodeJS.ProcessEnv = process.env): number {
  if (threads !== 'auto') {
    if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`threads must be an integer >= 1 or 'auto' (got ${threads})`);
    return threads;
  }
  const pool = Math.max(1, Math.floor(Number(env[POOL_WORKERS_ENV]) || 1));
  return Math.max(1, Math.floor(os.availableParallelism() / pool));
}

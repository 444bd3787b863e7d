/** `tsnas worker`: consumes trial jobs from a Redis (BullMQ) queue until interrupted. */
import type { Command } from 'commander';
import { startWorker } from '../run/bullmq-worker.js';
import { checkPoolSize } from '../run/pool.js';
import { insecureRedisWarning, redactUrl } from '../run/redis.js';
import { UsageError } from './errors.js';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} ${v}: give a positive integer`);
    return n;
  };
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run trials from a search started with --executor bullmq (on this or any machine)')
    .requiredOption('--redis <url>', 'the Redis of the search, e.g. redis://10.0.0.5:6379')
    .option('--queue <name>', 'queue name (as given to search)', 'tsnas')
    .option('--concurrency <n>', 'trials at once', int('--concurrency'), 1)
    .option('--runner <kind>', 'pool (each trial in a child process) or inprocess', 'pool')
    .option('--max-old-space-size <mb>', 'heap limit of each trial process in MB', int('--max-old-space-size'))
    .option('--lock-ms <ms>', 'a job of a dead worker is re-run after this long', int('--lock-ms'), 30_000)
    .option('--artifacts <dir|redis-url>', 'shared artifact location given to trials')
    .option('--allow-module <file|dir...>', 'objective modules jobs may name (files, or folders holding them); none by default')
    .option('--data-root <dir...>', 'folders jobs may read data from (CSV datasets, NB201 tables, inherited weights); none by default')
    .option('--redis-timeout <s>', 'exit when Redis is unreachable this long', int('--redis-timeout'), 30)
    .action(async (o) => {
      if (o.runner !== 'pool' && o.runner !== 'inprocess') throw new UsageError(`--runner ${o.runner}: use pool or inprocess`);
      if (o.runner === 'pool') checkPoolSize(o.concurrency, '--concurrency');
      const warning = insecureRedisWarning(o.redis);
      if (warning) console.error(warning);
      const w = await startWorker({
        url: o.redis,
        queue: o.queue,
        concurrency: o.concurrency,
        runner: o.runner,
        maxOldSpaceMb: o.maxOldSpaceSize,
        lockMs: o.lockMs,
        artifacts: o.artifacts,
        redisTimeoutS: o.redisTimeout,
        allowModules: o.allowModule,
        dataRoots: o.dataRoot,
        onRedisLost: (e) => {
          console.error(`tsnas: ${e.message}`);
          process.exit(3);
        },
      });
      const allowed = `modules: ${o.allowModule?.join(', ') ?? 'none'}; data roots: ${o.dataRoot?.join(', ') ?? 'none'}`;
      console.log(`worker ${process.pid} on ${redactUrl(o.redis)} queue "${o.queue}", ${o.concurrency} at once (${o.runner}); ${allowed}`);
      await new Promise<void>((resolve) => {
        const quit = () => resolve();
        process.once('SIGINT', quit);
        process.once('SIGTERM', quit);
      });
      await w.close();
      console.log(`worker ${process.pid}: ${w.done()} trials done`);
      process.exit(0);
    });
}

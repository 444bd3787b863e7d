/** Redis going away: a restart is survived (with or without its data); a long outage or a bad URL is a one-line error. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { MemoryStore } from '../../src/store/memory.js';
import { GridStrategy } from '../../src/strategy/grid.js';
import { BullmqExecutor } from '../../src/run/bullmq.js';
import { startWorker } from '../../src/run/bullmq-worker.js';
import { runWithExecutor } from '../../src/run/coordinator.js';
import { startRedis } from '../helpers/redis.js';
import { tsnas } from './fixtures/procs.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'objectives.ts');
const stepper = { kind: 'module' as const, file: FIXTURES, exportName: 'stepper' };

function open(): Experiment {
  return Experiment.open({
    store: new MemoryStore(),
    name: 'r',
    strategy: new GridStrategy({ ordered: true }),
    space: { params: { x: { type: 'categorical', choices: [1, 2, 3, 4, 5, 6] }, steps: { type: 'categorical', choices: [4] }, stepMs: { type: 'categorical', choices: [150] } } },
  });
}

describe('redis outages', () => {
  for (const appendonly of [true, false]) {
    it(`a Redis restart mid-search (${appendonly ? 'data kept' : 'data lost'}) is survived; every trial recorded once`, async () => {
      const redis = await startRedis({ appendonly });
      const w = await startWorker({ url: redis.url, allowModules: [path.dirname(FIXTURES)], queue: 'q', concurrency: 2, runner: 'inprocess', lockMs: 2000 });
      try {
        const exp = open();
        const ex = new BullmqExecutor({ url: redis.url, queue: 'q', slots: 2, runKey: 'r', pollMs: 300 });
        const run = runWithExecutor(exp, ex, { objective: stepper, nTrials: 6 });
        await new Promise<void>((resolve) => {
          const t = setInterval(() => {
            if (exp.trials().some((tr) => tr.state === 'RUNNING' && tr.intermediate.length >= 2)) {
              clearInterval(t);
              resolve();
            }
          }, 20);
        });
        await redis.restart();
        await run;
        expect(exp.trials().map((t) => [t.state, t.values])).toEqual([1, 2, 3, 4, 5, 6].map((x) => ['COMPLETE', [4 * x]]));
        if (!appendonly) expect(ex.resubmitted).toBeGreaterThanOrEqual(1); // jobs lost with the data were added again
      } finally {
        await w.close();
        await redis.stop();
      }
    });
  }

  it('Redis gone for longer than the limit: the coordinator stops with a one-line error, no hang', async () => {
    const redis = await startRedis();
    const w = await startWorker({ url: redis.url, allowModules: [path.dirname(FIXTURES)], queue: 'g', concurrency: 1, runner: 'inprocess', onRedisLost: () => {} });
    const exp = open();
    const run = runWithExecutor(exp, new BullmqExecutor({ url: redis.url, queue: 'g', slots: 1, runKey: 'g', redisTimeoutS: 1 }), { objective: stepper, nTrials: 6 });
    await new Promise((r) => setTimeout(r, 500));
    await redis.stop(true);
    const t0 = Date.now();
    await expect(run).rejects.toThrow(new RegExp(`^lost Redis at ${redis.url} for 1 s \\(.*\\); is redis-server running\\?$`));
    expect(Date.now() - t0).toBeLessThan(4000);
    void w.close();
  });

  it('CLI: an unreachable Redis or a bad URL exits non-zero with one line', async () => {
    const a = tsnas(['worker', '--redis', 'redis://127.0.0.1:1']);
    const b = tsnas(['search', '--space', 'nb201', '--trials', '2', '--storage', 'memory:', '--executor', 'bullmq', '--redis', 'http://localhost:6379']);
    const [ca, cb] = await Promise.all([a.exited, b.exited]);
    expect([ca, a.out().trim()]).toEqual([2, 'tsnas: cannot reach Redis at redis://127.0.0.1:1: ECONNREFUSED']);
    expect([cb, b.out().trim()]).toEqual([2, 'tsnas: --redis http://localhost:6379: scheme http: is not redis: or rediss:; use redis://HOST:PORT']);
  });
});

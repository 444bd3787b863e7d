/** BullMQ executor with workers in this process (their trials in pool children or in-process), on a real Redis. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Experiment } from '../../src/core/experiment.js';
import type { Pruner } from '../../src/core/pruner.js';
import { MemoryStore } from '../../src/store/memory.js';
import { GridStrategy } from '../../src/strategy/grid.js';
import { BullmqExecutor } from '../../src/run/bullmq.js';
import { startWorker } from '../../src/run/bullmq-worker.js';
import { runWithExecutor } from '../../src/run/coordinator.js';
import { DirArtifactStore, RedisArtifactStore } from '../../src/store/artifacts.js';
import type { SearchSpace } from '../../src/space/params.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'objectives.ts');
const spec = (exportName: string) => ({ kind: 'module' as const, file: FIXTURES, exportName });

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

function open(space: SearchSpace, pruner?: Pruner): Experiment {
  return Experiment.open({ store: new MemoryStore(), name: 't', strategy: new GridStrategy({ ordered: true }), space, seed: 3, pruner });
}

describe('bullmq executor', () => {
  it('a throw or out-of-memory fails only that trial, with its message; the others complete', async () => {
    const w = await startWorker({ url: redis.url, allowModules: [path.dirname(FIXTURES)], queue: 'fail', concurrency: 2, runner: 'pool', maxOldSpaceMb: 48, forwardStderr: false });
    try {
      const exp = open({ params: { mode: { type: 'categorical', choices: ['ok', 'throw', 'oom', 'nan'] }, x: { type: 'categorical', choices: [2] } } });
      const ex = new BullmqExecutor({ url: redis.url, queue: 'fail', slots: 2, runKey: 'k1' });
      await runWithExecutor(exp, ex, { objective: spec('mixed'), nTrials: 4 });
      const trials = exp.trials();
      expect(trials).toHaveLength(4);
      const by = (m: string) => trials.filter((t) => t.params.mode === m);
      expect(by('ok').map((t) => [t.state, t.values])).toEqual([['COMPLETE', [2]]]);
      for (const t of by('throw')) expect([t.state, t.error]).toEqual(['FAILED', `boom in trial ${t.number}`]);
      for (const t of by('oom')) expect([t.state, t.error?.startsWith('out of memory (heap limit 48 MB)')]).toEqual(['FAILED', true]);
      for (const t of by('nan')) expect([t.state, t.error]).toEqual(['FAILED', 'objective returned a non-finite value (NaN)']);
      // results are dropped from Redis once recorded
      const r = new Redis(redis.url);
      expect(await r.keys('bull:fail:k1-*')).toEqual([]);
      r.disconnect();
    } finally {
      await w.close();
    }
  });

  it('streams intermediate values to the store; a stop request reaches the running trial within 1 s', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-art-'));
    const w = await startWorker({ url: redis.url, allowModules: [path.dirname(FIXTURES)], queue: 'stop', concurrency: 2, runner: 'inprocess', artifacts: dir });
    try {
      const stopAsked = new Map<number, number>();
      const pruner: Pruner = {
        name: 'test',
        shouldPrune: ({ trial }) => {
          const prune = trial.params.x === 2 && (trial.intermediate.at(-1)?.step ?? 0) >= 3;
          if (prune && !stopAsked.has(trial.id)) stopAsked.set(trial.id, Date.now());
          return prune;
        },
      };
      const exp = open({ params: { x: { type: 'categorical', choices: [1, 2] }, steps: { type: 'categorical', choices: [8] } } }, pruner);
      const seen: number[] = [];
      const store = exp.store;
      const add = store.addIntermediate.bind(store);
      store.addIntermediate = (id, step, value) => {
        seen.push(Date.now());
        add(id, step, value);
      };
      await runWithExecutor(exp, new BullmqExecutor({ url: redis.url, queue: 'stop', slots: 2, runKey: 'k2' }), { objective: spec('stepper'), nTrials: 2 });
      const [a, b] = exp.trials();
      expect([a!.state, a!.values]).toEqual(['COMPLETE', [8]]);
      expect(a!.intermediate.map((iv) => iv.value)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(seen.length).toBeGreaterThanOrEqual(8 + 3); // streamed while running, not only at the end
      expect(b!.state).toBe('PRUNED');
      expect(b!.finishedAt! - stopAsked.get(b!.id)!).toBeLessThan(1000);
      expect(b!.intermediate.length).toBeLessThan(8);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'trial-0.json'), 'utf8'))).toEqual({ value: 8 }); // --artifacts DIR reached the trial
    } finally {
      await w.close();
    }
  });

  it('artifact stores: directory and Redis put/get/has', async () => {
    const os = await import('node:os');
    const fs = await import('node:fs');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-art-'));
    const r = new Redis(redis.url);
    for (const s of [new DirArtifactStore(dir), new RedisArtifactStore(r, 'tsnas:artifact:', 16)]) {
      expect(await s.has('w/t1.bin')).toBe(false);
      await s.put('w/t1.bin', new Uint8Array([1, 2, 3]));
      expect(await s.has('w/t1.bin')).toBe(true);
      expect([...(await s.get('w/t1.bin'))!]).toEqual([1, 2, 3]);
      expect(await s.get('nope')).toBeNull();
      await expect(s.put('../x', new Uint8Array(1))).rejects.toThrow(/artifact key/);
    }
    await expect(new RedisArtifactStore(r, 'a:', 16).put('big', new Uint8Array(17))).rejects.toThrow(/over the Redis artifact limit/);
    r.disconnect();
  });
});

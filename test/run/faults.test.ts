/** Fault tolerance with real processes and a real Redis: kill -9 of a worker, kill -9 of the coordinator. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { Experiment } from '../../src/core/experiment.js';
import { MemoryStore } from '../../src/store/memory.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { GridStrategy } from '../../src/strategy/grid.js';
import { BullmqExecutor } from '../../src/run/bullmq.js';
import { runWithExecutor } from '../../src/run/coordinator.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { killAll, startWorkers, tsnas, waitFor, type Proc } from './fixtures/procs.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(HERE, 'fixtures', 'objectives.ts');

let redis: TestRedis;
const procs: Proc[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await killAll(procs);
  await redis?.stop();
});

describe('fault tolerance (bullmq)', () => {
  it('kill -9 of a worker mid-trial: its job is re-run and every trial is recorded exactly once', async () => {
    const [a, b] = await startWorkers(2, redis.url, 'wk');
    procs.push(a!, b!);
    const exp = Experiment.open({
      store: new MemoryStore(),
      name: 'wk',
      strategy: new GridStrategy({ ordered: true }),
      space: { params: { x: { type: 'categorical', choices: [1, 2, 3, 4, 5, 6] }, steps: { type: 'categorical', choices: [6] }, stepMs: { type: 'categorical', choices: [150] } } },
    });
    const events = new QueueEvents('wk', { connection: { host: '127.0.0.1', port: redis.port } });
    let stalled = 0;
    events.on('stalled', () => stalled++);
    await events.waitUntilReady();
    const ends: number[] = [];
    let killedAt = 0;
    const run = runWithExecutor(exp, new BullmqExecutor({ url: redis.url, queue: 'wk', slots: 2, runKey: 'w' }), {
      objective: { kind: 'module', file: FIXTURES, exportName: 'stepper' },
      nTrials: 6,
      onTrialEnd: (t) => ends.push(t.number),
    });
    // Both workers are mid-trial (each runs one at a time): kill one.
    await waitFor('two trials streaming', () => exp.trials().filter((t) => t.state === 'RUNNING' && t.intermediate.length >= 2).length === 2, 60_000);
    a!.proc.kill('SIGKILL');
    killedAt = Date.now();
    await run;
    await events.close();
    const trials = exp.trials();
    expect(trials.map((t) => [t.number, t.state, t.values])).toEqual([1, 2, 3, 4, 5, 6].map((x, i) => [i, 'COMPLETE', [6 * x]]));
    expect(ends.sort()).toEqual([0, 1, 2, 3, 4, 5]); // each recorded once
    expect(stalled).toBeGreaterThanOrEqual(1); // BullMQ saw the dead worker's job stall and re-queued it
    const killedPid = `${os.hostname()}:${a!.proc.pid}`;
    // the re-run finished on the surviving worker after the kill
    const rerun = trials.filter((t) => t.finishedAt! > killedAt && t.system.worker !== killedPid);
    expect(rerun.length).toBeGreaterThanOrEqual(1);
    expect(trials.filter((t) => t.system.worker === killedPid && t.finishedAt! > killedAt)).toEqual([]);
    expect(trials.every((t) => typeof t.system.worker === 'string')).toBe(true); // each recorded with the worker that ran it
  });

  it('kill -9 of the coordinator: a restart collects what finished meanwhile and ends with every trial accounted for', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-co-'));
    const space = path.join(dir, 'space.json');
    fs.writeFileSync(space, JSON.stringify({ params: { x: { type: 'categorical', choices: [1, 2, 3, 4, 5, 6, 7, 8] }, steps: { type: 'categorical', choices: [4] }, stepMs: { type: 'categorical', choices: [150] } } }));
    const db = path.join(dir, 'runs.db');
    const args = ['search', '--space', space, '--objective', path.join(HERE, 'fixtures', 'step-objective.ts'), '--strategy', 'grid', '--trials', '8',
      '--storage', `sqlite:${db}`, '--name', 'co', '--executor', 'bullmq', '--redis', redis.url, '--queue', 'co', '--workers', '2', '--no-progress'];
    const first = tsnas(args); // jobs wait in the queue until the workers are up
    procs.push(first);
    procs.push(...(await startWorkers(2, redis.url, 'co')));
    const peek = () => {
      if (!fs.existsSync(db)) return [];
      const s = new SqliteStore(db);
      try {
        const e = s.getExperiment('co');
        return e ? [...s.getTrials(e.id)] : [];
      } finally {
        s.close();
      }
    };
    await waitFor('2 complete trials and 2 in flight', () => {
      const t = peek();
      return t.filter((r) => r.state === 'COMPLETE').length >= 2 && t.filter((r) => r.state === 'RUNNING' && r.intermediate.length > 0).length === 2;
    }, 90_000, 100);
    first.proc.kill('SIGKILL');
    await first.exited;
    const inflight = peek().filter((t) => t.state === 'RUNNING').map((t) => t.number);
    // Let the in-flight trials finish on the workers while no coordinator is there.
    await new Promise((r) => setTimeout(r, 1500));
    const restartAt = Date.now();
    const second = tsnas(args);
    procs.push(second);
    expect(await second.exited).toBe(0);
    expect(second.out()).toMatch(/resuming experiment "co"/);
    const trials = peek();
    expect(trials.map((t) => [t.number, t.state])).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((n) => [n, 'COMPLETE']));
    expect(trials.map((t) => t.params.x).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const t of trials) expect(t.values).toEqual([4 * (t.params.x as number)]);
    expect(inflight.length).toBeGreaterThanOrEqual(1);
    for (const n of inflight) {
      const t = trials[n]!;
      expect(t.attrs.lastStepAt as number).toBeLessThan(restartAt); // finished while the coordinator was down, collected after
      expect(t.finishedAt!).toBeGreaterThan(restartAt);
    }
    const r = new Redis(redis.url);
    expect(await r.keys('bull:co:*-[0-9]*')).toEqual([]); // every result recorded and dropped
    r.disconnect();
  });
});

/**
 * Issue 18 item 1: non-finite intermediate and objective values are stored faithfully in SQLite and
 * never crash a loop (in-process, pool coordinator, BullMQ coordinator); the trial state follows the
 * evaluator's rule (a non-finite objective value fails the trial, naming the value).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { SqliteReader } from '../../src/store/sqlite-read.js';
import { GridStrategy } from '../../src/strategy/grid.js';
import { LocalPoolExecutor } from '../../src/run/pool.js';
import { BullmqExecutor } from '../../src/run/bullmq.js';
import { startWorker } from '../../src/run/bullmq-worker.js';
import { runWithExecutor } from '../../src/run/coordinator.js';
import { resolveObjectiveSpec } from '../../src/run/index.js';
import type { TrialRecord } from '../../src/core/store.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'objectives.ts');
const objective = { kind: 'module' as const, file: FIXTURES, exportName: 'nonFinite' };
const space = { params: { ret: { type: 'categorical' as const, choices: ['1', 'inf', '-inf'] } } };

let tmp: string;
let redis: TestRedis;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-nonfinite-'));
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function open(file: string): Experiment {
  return Experiment.open({ store: new SqliteStore(file), name: 'nf', strategy: new GridStrategy({ ordered: true }), space, seed: 1 });
}

/** What every executor must leave in the file, read back by a fresh reader. */
function expectFaithful(file: string): void {
  const r = new SqliteReader(file);
  const trials: readonly TrialRecord[] = r.getTrials(r.listExperiments()[0]!.id);
  r.close();
  expect(trials.map((t) => [t.params.ret, t.state])).toEqual([
    ['1', 'COMPLETE'],
    ['inf', 'FAILED'],
    ['-inf', 'FAILED'],
  ]);
  expect(trials[0]!.values).toEqual([1]);
  expect(trials[1]!.error).toBe('objective returned a non-finite value (Infinity)');
  expect(trials[2]!.error).toBe('objective returned a non-finite value (-Infinity)');
  for (const t of trials) expect(t.intermediate).toEqual([{ step: 1, value: NaN }, { step: 2, value: Infinity }, { step: 3, value: -Infinity }]);
}

describe('non-finite values', () => {
  it('in-process: NaN/Infinity reports are stored, an infinite objective fails its trial, the loop goes on', async () => {
    const file = path.join(tmp, 'inprocess.db');
    const exp = open(file);
    await exp.optimize(await resolveObjectiveSpec(objective), { nTrials: 3 });
    exp.store.close();
    expectFaithful(file);
  });

  it('pool coordinator: records them and survives a rerun on the same storage', async () => {
    const file = path.join(tmp, 'pool.db');
    for (const n of [3, 3]) {
      const exp = open(file);
      await runWithExecutor(exp, new LocalPoolExecutor({ size: 2, forwardStderr: false }), { objective, nTrials: n });
      exp.store.close();
    }
    expectFaithful(file);
  });

  it('BullMQ coordinator: values crossing Redis as JSON keep NaN and the infinities apart', async () => {
    const file = path.join(tmp, 'bullmq.db');
    const w = await startWorker({ url: redis.url, queue: 'nf', concurrency: 2, runner: 'inprocess', allowModules: [path.dirname(FIXTURES)] });
    try {
      for (const n of [3, 3]) {
        const exp = open(file);
        await runWithExecutor(exp, new BullmqExecutor({ url: redis.url, queue: 'nf', slots: 2, runKey: 'nf' }), { objective, nTrials: n });
        exp.store.close();
      }
    } finally {
      await w.close();
    }
    expectFaithful(file);
  });
});

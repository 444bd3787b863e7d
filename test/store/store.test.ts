import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { openStore, StorageError } from '../../src/store/index.js';
import type { ExperimentConfig, Store } from '../../src/core/store.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-store-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const config: ExperimentConfig = {
  directions: ['maximize'],
  strategy: { name: 'random' },
  space: { params: { x: { type: 'int', low: 0, high: 9 } } },
  seed: 1,
};

const cost = { wallSeconds: 1, cpuSeconds: 0.5, simulatedSeconds: 12 };

describe.each([
  ['memory', () => new MemoryStore() as Store],
  ['sqlite', () => new SqliteStore(path.join(tmp, `s-${Math.random()}.db`)) as Store],
])('%s store', (_name, make) => {
  it('numbers trials per experiment and keeps their history', () => {
    const s = make();
    const a = s.openExperiment('a', config);
    const b = s.openExperiment('b', config);
    expect(s.openExperiment('a', { ...config, seed: 99 }).config.seed).toBe(1);
    const t0 = s.createTrial(a.id, { state: 'RUNNING', params: { x: 1 }, distributions: {}, owner: 'h:1' });
    const t1 = s.createTrial(a.id, { state: 'RUNNING', params: { x: 2 }, distributions: {}, owner: 'h:1' });
    const u0 = s.createTrial(b.id, { state: 'WAITING', params: {}, distributions: {}, owner: null });
    expect([t0.number, t1.number, u0.number]).toEqual([0, 1, 0]);
    s.setParams(t1.id, { y: 'q' }, { y: { type: 'categorical', choices: ['q'] } });
    s.addIntermediate(t1.id, 1, 0.5);
    s.addIntermediate(t1.id, 2, 0.7);
    s.addIntermediate(t1.id, 2, 0.8); // same step overwrites
    s.setAttrs(t1.id, { arch: 'x' });
    expect(s.finishTrial(t1.id, { state: 'COMPLETE', values: [0.8], cost, attrs: { k: 1 } })).toBe(true);
    // a result is recorded once: a second finish is refused and changes nothing
    expect(s.finishTrial(t1.id, { state: 'FAILED', values: null, cost, error: 'late' })).toBe(false);
    const got = s.getTrial(t1.id)!;
    expect(got.state).toBe('COMPLETE');
    expect(got.values).toEqual([0.8]);
    expect(got.params).toEqual({ x: 2, y: 'q' });
    expect(got.intermediate).toEqual([
      { step: 1, value: 0.5 },
      { step: 2, value: 0.8 },
    ]);
    expect(got.attrs).toEqual({ arch: 'x', k: 1 });
    expect(got.cost).toEqual(cost);
    expect(s.getTrials(a.id).map((t) => t.number)).toEqual([0, 1]);
    expect(s.getTrials(a.id, ['RUNNING']).map((t) => t.id)).toEqual([t0.id]);
    expect(s.claimTrial(u0.id, 'w:2')).toBe(true);
    expect(s.claimTrial(u0.id, 'w:3')).toBe(false);
    expect(s.getTrial(u0.id)!.owner).toBe('w:2');
    s.setStrategyState(a.id, 'policy', { w: [1, 2] });
    expect(s.getStrategyState(a.id, 'policy')).toEqual({ w: [1, 2] });
    expect(s.getStrategyState(b.id, 'policy')).toBeUndefined();
    s.close();
  });
});

describe('sqlite durability and errors', () => {
  it('keeps everything across reopen', () => {
    const file = path.join(tmp, 'reopen.db');
    const s1 = new SqliteStore(file);
    const e = s1.openExperiment('e', config);
    const t = s1.createTrial(e.id, { state: 'RUNNING', params: { x: 3 }, distributions: {}, owner: 'h:1' });
    s1.finishTrial(t.id, { state: 'COMPLETE', values: [Number.NaN], cost });
    s1.close();
    const s2 = openStore(`sqlite:${file}`);
    const trials = s2.getTrials(s2.getExperiment('e')!.id);
    expect(trials).toHaveLength(1);
    expect(trials[0]!.values).toEqual([NaN]); // stored faithfully, and the file stays valid
    s2.close();
  });

  it('names the storage and the fix for unusable paths', () => {
    expect(() => openStore(`sqlite:${tmp}`)).toThrow(/is a directory; give a file path/);
    expect(() => openStore(`sqlite:${tmp}/missing/dir/x.db`)).toThrow(/does not exist; create it/);
    const junk = path.join(tmp, 'junk.db');
    fs.writeFileSync(junk, 'this is not a database, just text '.repeat(200));
    expect(() => openStore(`sqlite:${junk}`)).toThrow(StorageError);
    expect(() => openStore(`sqlite:${junk}`)).toThrow(/not a tsnas SQLite database/);
    expect(() => openStore('postgres://x')).toThrow(/unknown scheme "postgres"/);
  });
});

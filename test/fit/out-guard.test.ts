/**
 * Issue 18 items 6, 12 and 17 for fit's output folder: two concurrent fits to one --out (one is
 * refused, before loading data); a full disk leaves no truncated report.html and one tsnas line; a
 * killed fit's folder resumes its search.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fit } from '../../src/fit/fit.js';
import { runCli } from '../../src/cli/program.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { writeFileAtomic } from '../../src/util/output.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-outguard-'));
/** One epoch everywhere: these tests are about the folder, not the model. */
const quick = { data: 'iris', backend: 'cpu' as const, plan: { searchFidelity: { epochs: 1 }, finalFidelity: { epochs: 1 }, earlyStopping: 'none' as const } };
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('fit --out', () => {
  it('two concurrent fits to one folder: the second is refused at once, the first writes one model', async () => {
    const out = path.join(tmp, 'shared');
    const a = fit({ ...quick, trials: 1, out, seed: 1 });
    const b = fit({ ...quick, trials: 1, out, seed: 2 });
    const [ra, rb] = await Promise.allSettled([a, b]);
    expect(ra.status).toBe('fulfilled');
    expect(rb.status).toBe('rejected');
    expect((rb as PromiseRejectedResult).reason.message).toMatch(/another fit \(pid \d+ on .*\) is writing this folder/);
    (ra as PromiseFulfilledResult<Awaited<typeof a>>).value.close();
    expect(fs.existsSync(path.join(out, '.tsnas-fit.lock'))).toBe(false); // released
    const s = new SqliteStore(path.join(out, 'experiment.db'));
    const [e] = s.listExperiments();
    expect(e!.config.seed).toBe(1);
    expect(s.getTrials(e!.id)).toHaveLength(1); // no trial of the refused fit
    s.close();
  }, 120_000);

  it('a killed fit (experiment.db, a stale lock, no model) resumes its search; --force starts over', async () => {
    const out = path.join(tmp, 'killed');
    const first = await fit({ ...quick, trials: 1, out });
    first.close();
    for (const f of ['model.json', 'weights.bin', 'genotype.json', 'preprocessing.json', 'fit.json', 'report.html']) fs.rmSync(path.join(out, f));
    fs.writeFileSync(path.join(out, '.tsnas-fit.lock'), `999999999@${os.hostname()}\n`); // its process is gone
    const said: string[] = [];
    const second = await fit({ ...quick, trials: 2, out, onProgress: (e) => said.push(e.message) });
    second.close();
    expect(said.some((m) => /resuming the search of a fit that stopped/.test(m))).toBe(true);
    expect(second.summary.trials.total).toBe(2); // the killed fit's trial kept, one more run
    await expect(fit({ ...quick, trials: 1, out })).rejects.toThrow(/already holds a fit .*--force to replace it/);
    const third = await fit({ ...quick, trials: 1, out, force: true });
    third.close();
    expect(third.summary.trials.total).toBe(1);
  }, 180_000);
});

describe('a full disk', () => {
  it('writeFileAtomic keeps the old file and leaves no temporary file', () => {
    const file = path.join(tmp, 'keep.html');
    fs.writeFileSync(file, 'old report');
    const spy = vi.spyOn(fs, 'writeFileSync').mockImplementation(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    try {
      expect(() => writeFileAtomic(file, 'new report')).toThrow(/the disk is full/);
    } finally {
      spy.mockRestore();
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('old report');
    expect(fs.readdirSync(tmp).filter((f) => f.includes('keep.html'))).toEqual(['keep.html']);
  });

  it('tsnas report on a full disk: one tsnas line, exit 2, the old report intact', async () => {
    const db = path.join(tmp, 'full.db');
    const s = new SqliteStore(db);
    const e = s.openExperiment('e', { directions: ['maximize'], strategy: { name: 'random' }, space: null, seed: 0 });
    const t = s.createTrial(e.id, { state: 'RUNNING', params: {}, distributions: {}, owner: 'h:1' });
    s.finishTrial(t.id, { state: 'COMPLETE', values: [1], cost: { wallSeconds: 1, cpuSeconds: 1, simulatedSeconds: 0 } });
    s.close();
    const out = path.join(tmp, 'full.html');
    fs.writeFileSync(out, 'old report');
    let err = '';
    const real = fs.writeFileSync;
    const spy = vi.spyOn(fs, 'writeFileSync').mockImplementation((...a: Parameters<typeof real>) => {
      if (typeof a[0] === 'number') throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return real(...a);
    });
    try {
      const code = await runCli(['node', 'tsnas', 'report', '--storage', `sqlite:${db}`, '--out', out], { writeErr: (x) => void (err += x) });
      expect(code).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(err).toBe(`tsnas: cannot write ${out}: the disk is full; free some space and run the command again (nothing was left half-written)\n`);
    expect(fs.readFileSync(out, 'utf8')).toBe('old report');
  });
});

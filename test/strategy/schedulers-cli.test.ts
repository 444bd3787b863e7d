/**
 * `tsnas search --strategy sh|hyperband|asha|bohb`: on nb201 (simulated clock) every trial is a job
 * whose rung value is the table's validation accuracy at its budget and whose promotions continue a
 * finished parent (paying only the extra epochs); on a trained space (iris, chain) ASHA trains each
 * job to its epoch budget, in-process and in the local pool.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliAsync, type CliResult } from '../helpers/cli.js';
import { Nb201Evaluator } from '../../src/estimate/nb201.js';
import type { Job } from '../../src/strategy/schedulers/index.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { TrialRecord } from '../../src/core/store.js';

const cli = (args: string[], timeoutMs = 60_000): Promise<CliResult> => cliAsync(args, { timeoutMs });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-sched-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function trialsOf(db: string, name: string): readonly TrialRecord[] {
  const s = new SqliteStore(db);
  try {
    const e = s.getExperiment(name);
    expect(e, `experiment ${name}`).not.toBeNull();
    return s.getTrials(e!.id);
  } finally {
    s.close();
  }
}

/** Every promotion continues a COMPLETE parent of the previous budget with its parameters, once. */
function checkPromotions(ts: readonly TrialRecord[]): number {
  const seen = new Set<string>();
  let n = 0;
  for (const t of ts) {
    const j = t.system.job as Job;
    if (j.parent === null) continue;
    n++;
    const parent = ts[j.parent]!;
    const pj = parent.system.job as Job;
    expect(parent.state).toBe('COMPLETE');
    expect(t.params).toEqual(parent.params);
    expect(j.previousBudget).toBe(pj.budget);
    expect(j.budget).toBeGreaterThan(pj.budget);
    const key = `${j.parent}->${j.budget}`;
    expect(seen.has(key), `trial ${j.parent} promoted twice to ${j.budget}`).toBe(false);
    seen.add(key);
  }
  return n;
}

describe('tsnas search with a multi-fidelity scheduler', () => {
  const ev = new Nb201Evaluator();

  it('nb201: sh, hyperband, asha and bohb record each job at 12 or 200 epochs, its table value and its cost', async () => {
    const db = path.join(tmp, 'nb.db');
    const names = ['sh', 'hyperband', 'asha', 'bohb'];
    const runs = await Promise.all(
      names.map((s) => cli(['search', '--space', 'nb201', '--strategy', s, '--budget-seconds', '30000', '--seed', '3', '--storage', `sqlite:${db}`, '--no-progress'])),
    );
    for (const [i, s] of names.entries()) {
      const r = runs[i]!;
      expect(r.stderr, s).toBe('');
      expect(r.code, s).toBe(0);
      const ts = trialsOf(db, `nb201-${s}-seed3`);
      let spent = 0;
      for (const t of ts) {
        const j = t.system.job as Job;
        expect(j.scheduler).toBe(s);
        expect([12, 200]).toContain(j.budget);
        const row = ev.row(t.params);
        const value = j.budget === 12 ? row.validAcc12 : row.validAcc200;
        expect(t.intermediate).toEqual([{ step: j.budget, value }]);
        expect(t.values).toEqual([value]);
        const cost = (j.budget === 12 ? 12 * row.secondsPerEpoch : row.seconds200) - (j.previousBudget === 12 ? 12 * row.secondsPerEpoch : 0);
        expect(t.cost.simulatedSeconds).toBeCloseTo(cost, 6);
        spent += t.cost.simulatedSeconds;
      }
      expect(spent).toBeGreaterThanOrEqual(30000);
      const promotions = checkPromotions(ts);
      expect(promotions, s).toBeGreaterThan(2);
      const at = (b: number) => ts.filter((t) => (t.system.job as Job).budget === b).length;
      expect(r.stdout).toContain(`jobs per budget: 12: ${at(12)} jobs, 200: ${at(200)} jobs (${promotions} promotions)`);
      // The reported best is the best 200-epoch job, not a (lower-fidelity) 12-epoch value.
      const best = ts.filter((t) => (t.system.job as Job).budget === 200).reduce((a, b) => (b.values![0]! > a.values![0]! ? b : a));
      expect(r.stdout).toContain(`best: trial #${best.number} value ${best.values![0]}`);
    }
    // Hyperband's brackets (eta 3: 3 configurations at 12 epochs -> 1 at 200, then 2 at 200) vs SH's one bracket shape.
    const hb = trialsOf(db, 'nb201-hyperband-seed3').map((t) => t.system.job as Job);
    expect(hb.slice(0, 6).map((j) => `${j.s}/${j.rung}@${j.budget}`)).toEqual(['1/0@12', '1/0@12', '1/0@12', '1/1@200', '0/0@200', '0/0@200']);
    expect(trialsOf(db, 'nb201-sh-seed3').every((t) => (t.system.job as Job).s === 1)).toBe(true);
  }, 60_000);

  it('bad scheduler options are one-line usage errors', async () => {
    const db = `sqlite:${path.join(tmp, 'bad.db')}`;
    const nb = await cli(['search', '--space', 'nb201', '--strategy', 'hyperband', '--options', '{"budgets": [1, 200]}', '--trials', '2', '--storage', db]);
    expect(nb.code).toBe(2);
    expect(nb.stderr.trim()).toMatch(/^tsnas: --options: nb201 has 12- and 200-epoch tables only/);
    const eta = await cli(['search', '--space', 'nb201', '--strategy', 'asha', '--options', '{"eta": 1}', '--trials', '2', '--storage', db]);
    expect(eta.code).toBe(2);
    expect(eta.stderr.trim()).toBe('tsnas: asha options: eta must be > 1 (got 1)');
  });

  it('chain on iris with ASHA: jobs train 1 or 3 epochs, promotions resume their parent, in-process and in a pool of 2', async () => {
    const db = path.join(tmp, 'iris.db');
    const base = ['search', '--space', 'chain', '--dataset', 'iris', '--strategy', 'asha', '--trials', '8', '--epochs', '3', '--lr', '0.01',
      '--batch-size', '16', '--backend', 'wasm', '--no-evaluate-test', '--storage', `sqlite:${db}`];
    const [inproc, pool] = await Promise.all([cli([...base, '--name', 'inproc'], 90_000), cli([...base, '--name', 'pool', '--executor', 'pool', '--workers', '2'], 90_000)]);
    for (const [name, r] of [['inproc', inproc], ['pool', pool]] as const) {
      expect(r.stderr, name).toBe('');
      expect(r.code, name).toBe(0);
      const ts = trialsOf(db, name);
      expect(ts.filter((t) => t.state === 'COMPLETE')).toHaveLength(8);
      for (const t of ts) {
        const j = t.system.job as Job;
        expect([1, 3]).toContain(j.budget);
        expect(t.intermediate.at(-1)!.step).toBe(j.budget);
        expect((t.attrs.fidelity as { epochs: number }).epochs).toBe(j.budget);
        // A resumed promotion trains only epochs 2..3; a fresh job all of its epochs.
        const resumed = t.attrs.resumedFrom as { trial: number; epochs: number } | undefined;
        expect(t.intermediate.map((iv) => iv.step)).toEqual(resumed ? [2, 3] : Array.from({ length: j.budget }, (_, k) => k + 1));
        if (resumed) expect(resumed).toEqual({ trial: j.parent, epochs: 1 });
      }
      expect(checkPromotions(ts), name).toBeGreaterThanOrEqual(1);
    }
    // In one process every promotion finds its parent's checkpoint.
    const promoted = trialsOf(db, 'inproc').filter((t) => (t.system.job as Job).parent !== null);
    expect(promoted.every((t) => t.attrs.resumedFrom !== undefined)).toBe(true);
  }, 90_000);
});

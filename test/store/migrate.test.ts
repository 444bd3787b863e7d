/**
 * Schema 1 files (tsnas before the `system` column and the change counter) open and read as before:
 * a writable open migrates them (system keys move out of attrs), a read-only open reads them in place.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { SqliteReader } from '../../src/store/sqlite-read.js';
import { Experiment } from '../../src/core/experiment.js';
import { RandomStrategy } from '../../src/strategy/random.js';
import { cliAsync } from '../helpers/cli.js';

/** The schema tsnas wrote before version 2, with two trials as it stored them. */
function writeV1(file: string): void {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version VALUES (1);
    CREATE TABLE experiments (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, config TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE trials (id INTEGER PRIMARY KEY, experiment_id INTEGER NOT NULL REFERENCES experiments(id), number INTEGER NOT NULL,
      state TEXT NOT NULL, params TEXT NOT NULL, distributions TEXT NOT NULL, "values" TEXT, cost TEXT NOT NULL, attrs TEXT NOT NULL,
      error TEXT, created_at INTEGER NOT NULL, finished_at INTEGER, heartbeat_at INTEGER, owner TEXT, UNIQUE (experiment_id, number));
    CREATE INDEX trials_by_state ON trials (experiment_id, state);
    CREATE TABLE intermediate (trial_id INTEGER NOT NULL REFERENCES trials(id), step REAL NOT NULL, value REAL NOT NULL, PRIMARY KEY (trial_id, step));
    CREATE TABLE strategy_state (experiment_id INTEGER NOT NULL REFERENCES experiments(id), key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (experiment_id, key));
  `);
  const config = { directions: ['maximize'], strategy: { name: 'random' }, space: { params: { x: { type: 'float', low: 0, high: 1 } } }, seed: 0 };
  db.prepare('INSERT INTO experiments (name, config, created_at) VALUES (?, ?, ?)').run('old', JSON.stringify(config), 1);
  const add = db.prepare(
    `INSERT INTO trials (experiment_id, number, state, params, distributions, "values", cost, attrs, error, created_at, finished_at, heartbeat_at, owner)
     VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, 1, 2, 2, 'h:1')`,
  );
  const cost = JSON.stringify({ wallSeconds: 1, cpuSeconds: 1, simulatedSeconds: 0 });
  const dist = JSON.stringify({ x: config.space.params.x });
  add.run(0, 'COMPLETE', '{"x":0.5}', dist, '[0.5]', cost, JSON.stringify({ executor: 'pool', objective: { kind: 'nb201' }, training: { epochs: 3 }, ...SYS0_TSNAS }), null);
  add.run(1, 'FAILED', '{"x":0.7}', dist, null, cost, JSON.stringify({ abandoned: true, worker: 'w:9' }), 'process h:1 died');
  add.run(2, 'PRUNED', '{"x":0.9}', dist, null, cost, '{}', 'skipped: ~900 us/sample at the final fidelity exceeds the plan\'s cap of 500');
  db.prepare('INSERT INTO intermediate VALUES (1, 1, 0.25)').run();
  db.close();
}

/** Trial 0's scheduler job, inherited weights and lc forecast, written into attrs by tsnas before schema 2. */
const SYS0_TSNAS = {
  job: { scheduler: 'asha', bracket: 0, s: 2, rung: 0, budget: 1, previousBudget: 0, parent: null },
  inherit: { parent: 0, parentEpochs: 1, functionPreserving: true, counts: { copied: 2 }, nodes: [], startValue: 0.4, seconds: 0.1 },
  lc_prediction: { mean: 0.6, lower: 0.5, upper: 0.7, step: 1, target_step: 3, p_better: 0.2, best: 0.55 },
};

describe('schema 1 files', () => {
  it('a read-only open reads them in place: system keys come out of attrs', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-v1-')), 'old.db');
    writeV1(file);
    const before = fs.readFileSync(file);
    const r = new SqliteReader(file);
    const [a, b, c] = r.getTrials(r.getExperiment('old')!.id);
    r.close();
    expect(c!.system).toEqual({ skipped: "~900 us/sample at the final fidelity exceeds the plan's cap of 500" });
    expect([a!.attrs, a!.system]).toEqual([{ training: { epochs: 3 } }, { executor: 'pool', objective: { kind: 'nb201' }, ...SYS0_TSNAS }]);
    expect([b!.attrs, b!.system]).toEqual([{}, { abandoned: true, worker: 'w:9' }]);
    expect(a!.intermediate).toEqual([{ step: 1, value: 0.25 }]);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('tsnas trials and tsnas report read one as they are (the file is not changed)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-v1-'));
    const file = path.join(dir, 'old.db');
    writeV1(file);
    const before = fs.readFileSync(file);
    const trials = await cliAsync(['trials', '--storage', `sqlite:${file}`]);
    expect(trials.code, trials.stderr).toBe(0);
    expect(trials.stdout).toMatch(/COMPLETE/);
    const report = await cliAsync(['report', '--storage', `sqlite:${file}`, '--out', path.join(dir, 'r.html')]);
    expect(report.code, report.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'r.html'), 'utf8')).toContain('old');
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  }, 60_000);

  it('a writable open migrates them to schema 2 once; the experiment resumes and its history cache sees every row', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-v1-')), 'old.db');
    writeV1(file);
    const s = new SqliteStore(file);
    const exp = Experiment.open({ store: s, name: 'old', strategy: new RandomStrategy(), space: { params: { x: { type: 'float', low: 0, high: 1 } } } });
    const [a, b] = exp.trials();
    expect([a!.attrs, a!.system]).toEqual([{ training: { epochs: 3 } }, { executor: 'pool', objective: { kind: 'nb201' }, ...SYS0_TSNAS }]);
    expect(b!.system).toEqual({ abandoned: true, worker: 'w:9' });
    expect(exp.trials()[2]!.system.skipped).toMatch(/^~900 us/);
    await exp.optimize((t) => t.params.x as number, { nTrials: 4 }); // the abandoned trial does not count
    expect(exp.trials().map((t) => t.state)).toEqual(['COMPLETE', 'FAILED', 'PRUNED', 'COMPLETE', 'COMPLETE']);
    s.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({ version: 2 });
    expect(db.prepare('SELECT attrs, system FROM trials WHERE number = 1').get()).toEqual({ attrs: '{}', system: '{"abandoned":true,"worker":"w:9"}' });
    db.close();
    const again = new SqliteStore(file); // a second open finds schema 2 and changes nothing
    expect(again.getTrials(1).map((t) => t.system.abandoned ?? false)).toEqual([false, true, false, false, false]);
    again.close();
  });
});

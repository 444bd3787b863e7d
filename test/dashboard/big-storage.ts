/**
 * A large storage for the dashboard scale test: `seedBigStorage(file, n)` writes one NB201 experiment
 * of `n` finished trials (12 intermediate values each, like the learning-curve fixture) in one
 * transaction, in about a second. Values come from the NB201 table, so charts and the best cell are real.
 */
import Database from 'better-sqlite3';
import { Experiment } from '../../src/core/experiment.js';
import { Nb201Evaluator } from '../../src/estimate/nb201.js';
import { openStore } from '../../src/store/index.js';
import { RandomStrategy } from '../../src/strategy/index.js';
import { Rng } from '../../src/util/rng.js';

export const BIG_EXPERIMENT = 'nb201-big';

export async function seedBigStorage(file: string, n: number, seed = 7): Promise<void> {
  const store = openStore(`sqlite:${file}`);
  const ev = new Nb201Evaluator({ epochs: 12 });
  const exp = Experiment.open({ store, name: BIG_EXPERIMENT, strategy: new RandomStrategy(), space: ev.space, spaceName: 'nb201', seed, meta: { epochs: 12 } });
  await exp.optimize(ev.objective, { nTrials: 1 }); // trial 0 the ordinary way: the schema and config are the real ones
  store.close();
  const db = new Database(file);
  const rng = new Rng(seed);
  const names = Object.keys(ev.space.params);
  const distributions = JSON.stringify(ev.space.params);
  const insTrial = db.prepare(
    `INSERT INTO trials (experiment_id, number, state, params, distributions, "values", cost, attrs, error, created_at, finished_at, heartbeat_at, owner)
     VALUES (?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, NULL)`,
  );
  const insInter = db.prepare('INSERT INTO intermediate (trial_id, step, value) VALUES (?, ?, ?)');
  const t0 = Date.now() - n * 1000;
  db.transaction(() => {
    for (let k = 1; k < n; k++) {
      const params: Record<string, string> = {};
      for (const name of names) params[name] = rng.pick((ev.space.params[name] as { choices: string[] }).choices);
      const a = ev.query(params);
      const pruned = a.validAcc < 40;
      const state = pruned ? 'PRUNED' : 'COMPLETE';
      const at = t0 + k * 1000;
      const cost = JSON.stringify({ wallSeconds: 0.001, cpuSeconds: 0.001, simulatedSeconds: a.row.secondsPerEpoch * 12, backend: 'nb201-table' });
      const id = insTrial.run(exp.id, k, state, JSON.stringify(params), distributions, JSON.stringify([a.validAcc]), cost, pruned ? 'pruned at epoch 4' : null, at, at + 500, at + 500).lastInsertRowid;
      for (let e = 1; e <= (pruned ? 4 : 12); e++) insInter.run(id, e, (a.validAcc * (1 - Math.exp(-e / 3))) / (1 - Math.exp(-4)));
    }
  })();
  db.close();
}

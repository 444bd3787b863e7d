/**
 * The write load of the dashboard scale test (run as a child process): `node --import tsx
 * test/dashboard/scale-writer.ts FILE EVERY_MS` adds a trial to the big experiment every EVERY_MS,
 * the way a search's store calls do (create, 12 intermediate values each committed, finish), until killed.
 */
import { Nb201Evaluator } from '../../src/estimate/nb201.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { Rng } from '../../src/util/rng.js';
import { BIG_EXPERIMENT } from './big-storage.js';

const [file, every] = process.argv.slice(2);
const store = new SqliteStore(file!);
const exp = store.getExperiment(BIG_EXPERIMENT)!;
const ev = new Nb201Evaluator({ epochs: 12 });
const rng = new Rng(99);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
for (;;) {
  const t0 = Date.now();
  const params: Record<string, string> = {};
  for (const [name, spec] of Object.entries(ev.space.params)) params[name] = rng.pick((spec as { choices: string[] }).choices);
  const t = store.createTrial(exp.id, { state: 'RUNNING', params, distributions: ev.space.params, owner: 'scale-writer' });
  const a = ev.query(params);
  for (let e = 1; e <= 12; e++) store.addIntermediate(t.id, e, (a.validAcc * (1 - Math.exp(-e / 3))) / (1 - Math.exp(-4)));
  store.finishTrial(t.id, { state: 'COMPLETE', values: [a.validAcc], cost: { wallSeconds: 0.001, cpuSeconds: 0.001, simulatedSeconds: a.row.secondsPerEpoch * 12, backend: 'nb201-table' } });
  process.stdout.write(`${t.id}\n`);
  await sleep(Math.max(0, Number(every) - (Date.now() - t0)));
}

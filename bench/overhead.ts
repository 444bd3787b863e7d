/**
 * What `Experiment.optimize` itself costs per trial with a long history in SQLite: a 10,000-trial
 * experiment (written straight into the file), then `--trials` more trials of a no-op objective with
 * the random strategy. Prints the wall time per trial, the strategy's share (its `ask`, timed), and the
 * rest: the loop's own overhead (store reads and writes, the history, the executor seam). Optuna's
 * figure for the same (RandomSampler, SQLite RDB storage) is printed beside it when `import optuna` works.
 *
 *   npm run bench:overhead
 *   npm run bench:overhead -- --history 10000 --trials 200
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { findOptunaPython } from './python.js';
import { Experiment } from '../src/core/experiment.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { RandomStrategy } from '../src/strategy/random.js';
import type { SearchSpace } from '../src/space/params.js';
import { Rng } from '../src/util/rng.js';

const space: SearchSpace = { params: { x: { type: 'float', low: 0, high: 1 }, k: { type: 'categorical', choices: ['a', 'b', 'c'] }, n: { type: 'int', low: 1, high: 64 } } };

/** Writes `n` COMPLETE trials into experiment `expId` in one transaction (whatever columns this schema has). */
function fillHistory(file: string, expId: number, n: number): void {
  const db = new Database(file);
  const cols = new Set((db.prepare('PRAGMA table_info(trials)').all() as { name: string }[]).map((c) => c.name));
  const extra = ['system', 'seq'].filter((c) => cols.has(c));
  const ins = db.prepare(
    `INSERT INTO trials (experiment_id, number, state, params, distributions, "values", cost, attrs, error, created_at, finished_at, heartbeat_at, owner${extra.map((c) => `, ${c}`).join('')})
     VALUES (?, ?, 'COMPLETE', ?, ?, ?, ?, '{}', NULL, ?, ?, ?, NULL${extra.map((c) => (c === 'seq' ? ', ?' : ", '{}'")).join('')})`,
  );
  const rng = new Rng(7);
  const dist = JSON.stringify(space.params);
  const cost = JSON.stringify({ wallSeconds: 0.001, cpuSeconds: 0.001, simulatedSeconds: 0 });
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const p = { x: rng.uniform(0, 1), k: ['a', 'b', 'c'][i % 3], n: 1 + (i % 64) };
      const args: unknown[] = [expId, i, JSON.stringify(p), dist, JSON.stringify([p.x]), cost, Date.now(), Date.now(), Date.now()];
      if (extra.includes('seq')) args.push(i + 1);
      ins.run(...args);
    }
  })();
  db.close();
}

async function tsnas(history: number, trials: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-overhead-'));
  const file = path.join(dir, 'runs.db');
  try {
    const setup = new SqliteStore(file);
    const exp0 = Experiment.open({ store: setup, name: 'o', strategy: new RandomStrategy(), space, seed: 0 });
    setup.close();
    fillHistory(file, exp0.id, history);
    const store = new SqliteStore(file);
    const random = new RandomStrategy();
    let askMs = 0;
    let askCpuMs = 0;
    const strategy = {
      name: 'random',
      ask: (ctx: Parameters<RandomStrategy['ask']>[0]) => {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const p = random.ask(ctx);
        askMs += performance.now() - t0;
        const c = process.cpuUsage(c0);
        askCpuMs += (c.user + c.system) / 1000;
        return p;
      },
    };
    const exp = Experiment.open({ store, name: 'o', strategy, space, seed: 0 });
    await exp.optimize((t) => t.params.x as number, { nTrials: history + 5 }); // warm up (JIT, the first full read)
    askMs = 0;
    askCpuMs = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await exp.optimize((t) => t.params.x as number, { nTrials: history + 5 + trials });
    const total = (performance.now() - t0) / trials;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1000 / trials;
    store.close();
    const r = (v: number) => +v.toFixed(3);
    return {
      total_ms: r(total),
      strategy_ms: r(askMs / trials),
      overhead_ms: r(total - askMs / trials),
      cpu_total_ms: r(cpu),
      cpu_strategy_ms: r(askCpuMs / trials),
      cpu_overhead_ms: r(cpu - askCpuMs / trials),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const OPTUNA = `
import json, os, sys, tempfile, time, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
history, trials = int(sys.argv[1]), int(sys.argv[2])
d = tempfile.mkdtemp()
storage = optuna.storages.RDBStorage(f"sqlite:///{d}/o.db")
study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
dists = {"x": optuna.distributions.FloatDistribution(0, 1), "k": optuna.distributions.CategoricalDistribution(["a", "b", "c"]), "n": optuna.distributions.IntDistribution(1, 64)}
study.add_trials([optuna.trial.create_trial(params={"x": i / history, "k": "abc"[i % 3], "n": 1 + i % 64}, distributions=dists, value=i / history) for i in range(history)])
obj = lambda t: t.suggest_float("x", 0, 1) + (t.suggest_categorical("k", ["a", "b", "c"]) == "a") + t.suggest_int("n", 1, 64) * 0
study.optimize(obj, n_trials=5)
t0 = time.perf_counter()
study.optimize(obj, n_trials=trials)
print(json.dumps({"total_ms": (time.perf_counter() - t0) * 1000 / trials}))
`;

function optuna(history: number, trials: number): { total_ms: number } | string {
  const found = findOptunaPython();
  if (!found) return 'skipped: neither python3 nor /usr/bin/python3 imports optuna (apt-get install python3-optuna)';
  const r = spawnSync(found.py, ['-c', OPTUNA, String(history), String(trials)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return `failed: ${r.stderr.trim().split('\n').at(-1)}`;
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { total_ms: number };
}

async function main(): Promise<void> {
  const o = new Command()
    .name('bench:overhead')
    .option('--history <n>', 'trials already in the SQLite file', (v) => parseInt(v, 10), 10_000)
    .option('--trials <n>', 'trials timed', (v) => parseInt(v, 10), 200)
    .option('--no-optuna', 'do not run the Optuna comparison')
    .parse()
    .opts();
  const ours = await tsnas(o.history, o.trials);
  console.log(
    `tsnas optimize, ${o.history} trials of history in SQLite, ${o.trials} no-op trials (random strategy): ` +
      `${ours.total_ms} ms per trial = strategy ask ${ours.strategy_ms} ms + loop overhead ${ours.overhead_ms} ms (target < 5 ms); ` +
      `CPU time: ${ours.cpu_total_ms} = ${ours.cpu_strategy_ms} + ${ours.cpu_overhead_ms} ms`,
  );
  const theirs = o.optuna ? optuna(o.history, o.trials) : 'skipped: --no-optuna';
  if (typeof theirs === 'string') console.log(`optuna: ${theirs}`);
  else console.log(`optuna study.optimize, same history (RandomSampler, SQLite): ${theirs.total_ms.toFixed(3)} ms per trial; tsnas/optuna ${(ours.total_ms / theirs.total_ms).toFixed(2)}x`);
  console.log(JSON.stringify({ tsnas: ours, optuna: theirs }));
}

main().catch((e) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});

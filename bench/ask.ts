/**
 * Latency of `ask()` for every registered strategy with a long history: 2,000 completed trials
 * (distinct random NB201 configurations with their 12-epoch validation accuracy, in a MemoryStore),
 * then `--repeats` ask/tell rounds (the history keeps growing as in a real search). Reports the
 * first ask separately (one-time work: JIT, enumerating a finite space) and the median / p95 of the
 * others, in wall-clock time and in process CPU time (robust to a shared, loaded machine). Timed: the
 * strategy's ask(ctx) with the context Experiment.ask builds. Last line: one JSON object
 * {"<strategy>": {"median_ms", "p95_ms", "cpu_median_ms", "cpu_p95_ms", "first_ms"}, ...}.
 *
 *   npm run bench:ask
 *   npm run bench:ask -- --strategy bo,tpe --trials 2000 --repeats 40
 */
import { Command } from 'commander';
import { Experiment } from '../src/core/experiment.js';
import { Nb201Evaluator } from '../src/estimate/nb201.js';
import { paramsKey, sampleSpace } from '../src/space/params.js';
import { MemoryStore } from '../src/store/memory.js';
import { createStrategy, SCHEDULER_STRATEGIES, strategyNames } from '../src/strategy/index.js';
import { Rng } from '../src/util/rng.js';

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

async function measure(name: string, nTrials: number, repeats: number, dir?: string) {
  const ev = new Nb201Evaluator({ dir, epochs: 12 });
  const store = new MemoryStore();
  const exp = Experiment.open({ store, name: `ask-${name}`, strategy: createStrategy(name), space: ev.space, spaceName: 'nb201', seed: 0 });
  const rng = new Rng(12345);
  const seen = new Set<string>();
  const dists = ev.space.params;
  while (seen.size < nTrials) {
    const p = sampleSpace(ev.space, rng);
    const k = paramsKey(p);
    if (seen.has(k)) continue;
    seen.add(k);
    const a = ev.query(p);
    const t = store.createTrial(exp.id, { state: 'RUNNING', params: p, distributions: dists, owner: null });
    store.finishTrial(t.id, {
      state: 'COMPLETE',
      values: [a.validAcc],
      cost: { wallSeconds: 0, cpuSeconds: 0, simulatedSeconds: a.seconds },
    });
  }
  const strategy = exp.strategy;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r <= repeats; r++) {
    // The strategy's own ask, with the context Experiment.ask gives it (store reads and checks excluded).
    const history = exp.trials();
    const ctx = exp.context(history);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const proposed = await strategy.ask(ctx);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    const trial = await exp.ask(proposed);
    await exp.tell(trial, ev.query(trial.params).validAcc);
  }
  const first = wall.shift()!;
  cpu.shift();
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return {
    median_ms: +quantile(wall, 0.5).toFixed(2),
    p95_ms: +quantile(wall, 0.95).toFixed(2),
    cpu_median_ms: +quantile(cpu, 0.5).toFixed(2),
    cpu_p95_ms: +quantile(cpu, 0.95).toFixed(2),
    first_ms: +first.toFixed(2),
  };
}

async function main(): Promise<void> {
  const o = new Command()
    .name('bench:ask')
    .option('--strategy <names>', 'comma-separated strategies, or "all" (every registered one)', 'all')
    .option('--trials <n>', 'completed trials in the history', (v) => parseInt(v, 10), 2000)
    .option('--repeats <n>', 'measured asks per strategy', (v) => parseInt(v, 10), 40)
    .option('--nb201-dir <dir>', 'folder with nb201_cifar10.csv')
    .parse()
    .opts();
  // Schedulers need budgets and a job objective: their asks are timed by bench:multifidelity's runs.
  const all = strategyNames().filter((n) => !(SCHEDULER_STRATEGIES as readonly string[]).includes(n));
  const names = o.strategy === 'all' ? all : String(o.strategy).split(',');
  const out: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const name of names) {
    out[name] = await measure(name, o.trials, o.repeats, o.nb201Dir);
    const r = out[name];
    console.log(`${name.padEnd(12)} wall median ${r.median_ms} ms, p95 ${r.p95_ms} ms | cpu median ${r.cpu_median_ms} ms, p95 ${r.cpu_p95_ms} ms | first ${r.first_ms} ms`);
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});

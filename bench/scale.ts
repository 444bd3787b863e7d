/**
 * bench:scale — trial throughput of the BullMQ executor with 1, 2 and 4 workers, on a Redis this
 * script starts on a free port (and stops). Workers are in-process BullMQ Worker instances (one
 * Redis connection set each, concurrency 1, trials run in-process), so trials that sleep a fixed
 * time are bound by the queue round trips, not by the 2 cores. The coordinator (strategy + memory
 * store) is the same BullmqExecutor + runWithExecutor the CLI uses. With `--procs`, workers are
 * separate `tsnas worker --runner inprocess` processes instead (objective: the test fixture `sleepy`).
 *
 *   npm run bench:scale [-- --sleep-ms 200 --trials-per-worker 16 --procs]
 *
 * speedup_N = throughput(N workers) / throughput(1 worker); overhead_ms = per-trial time beyond the
 * sleep, wall * N / trials - sleep, the largest over N in {1, 2, 4}. Last line is JSON.
 */
import { Experiment } from '../src/core/experiment.js';
import { MemoryStore } from '../src/store/memory.js';
import { RandomStrategy } from '../src/strategy/random.js';
import { BullmqExecutor } from '../src/run/bullmq.js';
import { startWorker, type TrialWorker } from '../src/run/bullmq-worker.js';
import { runWithExecutor } from '../src/run/coordinator.js';
import type { Trial } from '../src/core/trial.js';
import { startRedis } from '../test/helpers/redis.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROCS = process.argv.includes('--procs');
const FIXTURE = path.join(ROOT, 'test/run/fixtures/objectives.ts');

/** `tsnas worker` processes; resolves once each says it is consuming. */
async function workerProcs(n: number, url: string, queue: string): Promise<ChildProcess[]> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return Promise.all(
    Array.from({ length: n }, () => {
      const p = spawn(process.execPath, ['--import', tsx, path.join(ROOT, 'src/cli/main.ts'), 'worker', '--redis', url, '--queue', queue, '--runner', 'inprocess'], {
        env: { ...process.env, TSNAS_TEST_SLEEP_MS: String(SLEEP_MS) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      return new Promise<ChildProcess>((resolve) => p.stdout!.on('data', (d) => /^worker \d+ on/m.test(String(d)) && resolve(p)));
    }),
  );
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const SLEEP_MS = arg('sleep-ms', 200);
const PER_WORKER = arg('trials-per-worker', 16);

const sleepy = async (trial: Trial): Promise<number> => {
  await new Promise((r) => setTimeout(r, SLEEP_MS));
  return Number(trial.params.x);
};

async function measure(url: string, n: number, round: number): Promise<{ n: number; trials: number; wallS: number; perSec: number; overheadMs: number }> {
  const queue = `scale-${n}-${round}`;
  const workers: TrialWorker[] = [];
  const procs = PROCS ? await workerProcs(n, url, queue) : [];
  for (let i = 0; i < n && !PROCS; i++) workers.push(await startWorker({ url, queue, concurrency: 1, runner: 'inprocess', objective: sleepy }));
  const run = async (trials: number, name: string) => {
    const exp = Experiment.open({ store: new MemoryStore(), name, strategy: new RandomStrategy(), space: { params: { x: { type: 'float', low: 0, high: 1 } } }, seed: 1 });
    const ex = new BullmqExecutor({ url, queue, slots: n, runKey: name });
    const t0 = performance.now();
    await runWithExecutor(exp, ex, { objective: { kind: 'module', file: FIXTURE, exportName: 'sleepy' }, nTrials: trials });
    const wallS = (performance.now() - t0) / 1000;
    const done = exp.trials().filter((t) => t.state === 'COMPLETE').length;
    if (done !== trials) throw new Error(`${done}/${trials} trials complete`);
    return wallS;
  };
  await run(2 * n, `warm${n}`); // connections, JIT
  const trials = PER_WORKER * n;
  const wallS = await run(trials, `timed${n}`);
  for (const w of workers) await w.close();
  for (const p of procs) p.kill('SIGTERM');
  const perSec = trials / wallS;
  return { n, trials, wallS, perSec, overheadMs: (wallS * 1000 * n) / trials - SLEEP_MS };
}

const redis = await startRedis();
try {
  console.log(`bench:scale — BullMQ, ${PROCS ? 'tsnas worker processes' : 'in-process workers'} (concurrency 1 each), trials sleep ${SLEEP_MS} ms, ${PER_WORKER} trials per worker`);
  const rows = [];
  for (const n of [1, 2, 4]) {
    const r = await measure(redis.url, n, 0);
    rows.push(r);
    console.log(
      `workers ${n}: ${r.trials} trials in ${r.wallS.toFixed(2)} s = ${r.perSec.toFixed(2)} trials/s ` +
        `(ideal ${((1000 / SLEEP_MS) * n).toFixed(2)}), overhead ${r.overheadMs.toFixed(1)} ms/trial`,
    );
  }
  const [r1, r2, r4] = rows as [typeof rows[0], typeof rows[0], typeof rows[0]];
  const out = {
    speedup_2: +(r2.perSec / r1.perSec).toFixed(3),
    speedup_4: +(r4.perSec / r1.perSec).toFixed(3),
    overhead_ms: +Math.max(r1.overheadMs, r2.overheadMs, r4.overheadMs).toFixed(1),
  };
  console.log(JSON.stringify(out));
} finally {
  await redis.stop();
}
process.exit(0);

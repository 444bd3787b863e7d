/**
 * Local-pool throughput on real training: the same trials (same seed, so the same architectures)
 * trained by `tsnas search --executor pool` with 1 and then 2 worker processes; prints the speedup.
 *
 *   npm run bench:pool -- [--trials 6] [--space chain] [--dataset mnist] [--epochs 1] [--data-fraction 0.05]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';

const o = new Command()
  .option('--trials <n>', 'trials per run', '6')
  .option('--space <name>', 'trained space', 'chain')
  .option('--dataset <name>', 'dataset', 'mnist')
  .option('--epochs <n>', 'epochs per trial', '1')
  .option('--data-fraction <f>', 'training fraction per trial', '0.05')
  .parse()
  .opts();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-pool-bench-'));
const entry = path.resolve('src/cli/main.ts');

function run(workers: number): { seconds: number; trialSeconds: number } {
  const db = path.join(tmp, `w${workers}.db`);
  const args = ['--import', 'tsx', entry, 'search', '--space', o.space, '--dataset', o.dataset, '--strategy', 'random', '--seed', '1',
    '--trials', o.trials, '--epochs', o.epochs, '--data-fraction', o.dataFraction, '--executor', 'pool', '--workers', String(workers),
    '--no-evaluate-test', '--no-progress', '--storage', `sqlite:${db}`];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const seconds = (Date.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`search with ${workers} worker(s) failed: ${r.stderr}`);
  const m = /trial wall ([\d.]+) s/.exec(r.stdout);
  return { seconds, trialSeconds: m ? Number(m[1]) : NaN };
}

console.log(`pool throughput on real training: ${o.trials} trials of --space ${o.space} on ${o.dataset}, ${o.epochs} epoch(s), data fraction ${o.dataFraction}; load average before: ${os.loadavg()[0]!.toFixed(2)}`);
const one = run(1);
const two = run(2);
const tp1 = Number(o.trials) / one.seconds;
const tp2 = Number(o.trials) / two.seconds;
console.log(`workers | wall s | trials/s | summed trial wall s`);
console.log(`1       | ${one.seconds.toFixed(1).padStart(6)} | ${tp1.toFixed(3)}    | ${one.trialSeconds.toFixed(1)}`);
console.log(`2       | ${two.seconds.toFixed(1).padStart(6)} | ${tp2.toFixed(3)}    | ${two.trialSeconds.toFixed(1)}`);
fs.rmSync(tmp, { recursive: true, force: true });
console.log(JSON.stringify({ trials: Number(o.trials), seconds_1: +one.seconds.toFixed(2), seconds_2: +two.seconds.toFixed(2), speedup_2: +(tp2 / tp1).toFixed(3) }));

/**
 * Splits a benchmark's independent runs (run r uses seed r) across forked copies of the calling
 * script: each child is started with `--worker <job JSON>` and sends one result message per run.
 */
import { fork } from 'node:child_process';

export function runParallel<J extends object, R extends { run: number }>(job: J, runs: number, jobs: number): Promise<R[]> {
  const results: R[] = [];
  const n = Math.max(1, Math.min(jobs, runs));
  return new Promise((resolve, reject) => {
    let alive = n;
    for (let w = 0; w < n; w++) {
      const mine = Array.from({ length: runs }, (_, i) => i).filter((i) => i % n === w);
      const child = fork(process.argv[1]!, ['--worker', JSON.stringify({ ...job, runs: mine })], {
        execArgv: process.execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.on('message', (m) => results.push(m as R));
      child.on('exit', (code) => {
        if (code !== 0) reject(new Error(`bench worker exited with ${code}`));
        else if (--alive === 0) resolve(results.sort((a, b) => a.run - b.run));
      });
    }
  });
}

/**
 * Issue 18 item 8: `--executor pool --workers N` is capped at what the machine can run, and pool
 * children never outlive a parent killed with -9 (even children busy in a synchronous loop).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LocalPoolExecutor, maxPoolSize } from '../../src/run/pool.js';
import { tsnas, waitFor } from './fixtures/procs.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Live (not zombie) pool children (pool-child.ts) whose parent is `ppid`. */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === ppid && rest[0] !== 'Z' && fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('pool-child')) out.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('pool limits (issue 18.8)', () => {
  it('--workers above cores x 4 is one tsnas: line, exit 2, nothing spawned or written', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-cap-'));
    const space = path.join(dir, 'space.json');
    fs.writeFileSync(space, JSON.stringify({ params: { x: { type: 'categorical', choices: [1, 2] } } }));
    const db = path.join(dir, 'runs.db');
    const p = tsnas(['search', '--space', space, '--objective', path.join(HERE, 'fixtures', 'step-objective.ts'), '--trials', '2',
      '--storage', `sqlite:${db}`, '--executor', 'pool', '--workers', '1000000', '--no-progress']);
    const seen = new Set<number>();
    const watch = setInterval(() => p.proc.pid && childrenOf(p.proc.pid).forEach((c) => seen.add(c)), 20);
    const code = await p.exited;
    clearInterval(watch);
    expect(code).toBe(2);
    const max = maxPoolSize();
    expect(p.out().trim()).toBe(
      `tsnas: --workers 1000000: at most ${max} trial processes on this machine (4 per core, ${os.availableParallelism()} cores); give ${max} or fewer`,
    );
    expect(seen.size).toBe(0);
    expect(fs.existsSync(db)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('the library refuses the same sizes', () => {
    expect(() => new LocalPoolExecutor({ size: maxPoolSize() + 1 })).toThrow(/at most \d+ trial processes on this machine/);
    expect(() => new LocalPoolExecutor({ size: 0 })).toThrow(/pool size 0: give a whole number/);
    expect(new LocalPoolExecutor({ size: maxPoolSize() }).slots).toBe(maxPoolSize());
  });

  it('kill -9 of the search: its pool children (busy in a synchronous loop) are gone within 3 s', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-orphan-'));
    const space = path.join(dir, 'space.json');
    fs.writeFileSync(space, JSON.stringify({ params: { x: { type: 'categorical', choices: [1, 2, 3] }, ms: { type: 'categorical', choices: [120000] } } }));
    const p = tsnas(['search', '--space', space, '--objective', path.join(HERE, 'fixtures', 'deaf-objective.ts'), '--trials', '3',
      '--storage', `sqlite:${path.join(dir, 'runs.db')}`, '--executor', 'pool', '--workers', '2', '--no-progress']);
    try {
      // Both children started and are burning CPU in their trial (utime grows).
      const kids = await waitFor('2 pool children', () => {
        const k = childrenOf(p.proc.pid!);
        return k.length === 2 && k;
      }, 60_000, 100);
      const cpu = (pid: number) => {
        const rest = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return Number(rest[11]);
      };
      const start = kids.map(cpu);
      await waitFor('both trials running', () => kids.every((k, i) => cpu(k) > start[i]! + 50), 60_000, 100);
      p.proc.kill('SIGKILL');
      await p.exited;
      const killedAt = Date.now();
      await waitFor('the orphaned children to exit', () => kids.every((k) => !alive(k)), 10_000, 50);
      expect(Date.now() - killedAt).toBeLessThan(3000);
    } finally {
      for (const k of childrenOf(p.proc.pid!)) process.kill(k, 'SIGKILL');
      if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

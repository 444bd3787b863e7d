/**
 * Local pool executor: trials run in child processes (`child_process.fork`), one trial per child at a
 * time, children reused. A crash, `process.exit` or out-of-memory in a trial marks only that trial
 * FAILED with what the child printed; the dead child is replaced and the search goes on.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { POOL_WORKERS_ENV } from '../nn/parallel/threads.js';
import { childEntry } from '../util/fork.js';
import { brokenOutcome, type Executor, type ExecutorListener, type TrialEvent, type TrialJob, type TrialOutcome } from './types.js';

export type ParentMsg = { type: 'run'; job: TrialJob } | { type: 'stop'; trialId: number };
export type ChildMsg = { type: 'ready' } | { type: 'event'; trialId: number; e: TrialEvent } | { type: 'end'; trialId: number; outcome: TrialOutcome };

/** Trial processes per core a pool may start: more only thrashes the machine (and 10^6 would fork-bomb it). */
export const POOL_PROCESSES_PER_CORE = 4;

/** The most child processes a pool may have on this machine. */
export function maxPoolSize(): number {
  return os.availableParallelism() * POOL_PROCESSES_PER_CORE;
}

export class PoolSizeError extends Error {
  override name = 'PoolSizeError';
  readonly userError = true;
}

/** Throws a one-line error unless `n` is a whole number from 1 to maxPoolSize(). */
export function checkPoolSize(n: number, what = 'pool size'): void {
  const max = maxPoolSize();
  if (!Number.isInteger(n) || n < 1) throw new PoolSizeError(`${what} ${n}: give a whole number of trial processes, 1 to ${max}`);
  if (n > max) {
    throw new PoolSizeError(
      `${what} ${n}: at most ${max} trial processes on this machine (${POOL_PROCESSES_PER_CORE} per core, ${os.availableParallelism()} cores); give ${max} or fewer`,
    );
  }
}

export interface PoolOptions {
  /** Child processes (default: number of cores; at most maxPoolSize()). */
  size?: number;
  /** V8 heap limit of each child in MB (`--max-old-space-size`); a trial over it is FAILED as out of memory. */
  maxOldSpaceMb?: number;
  /** Extra environment for children (e.g. TSNAS_ARTIFACTS). */
  env?: Record<string, string>;
  /** Copy children's stderr to ours (default true); the tail is kept for error messages either way. */
  forwardStderr?: boolean;
  /** A trial still running this long after a stop request has its process killed and ends PRUNED (default 10 s). */
  stopGraceMs?: number;
}

interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  trialId: number | null;
  stderr: string;
  dead: boolean;
  /** Killed because its trial ignored a stop request. */
  killedForStop: boolean;
}

function exitError(code: number | null, signal: NodeJS.Signals | null, stderr: string, heapMb?: number): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const oom = lines.find((l) => /heap out of memory|Reached heap limit|Allocation failed/i.test(l));
  if (oom) return `out of memory${heapMb ? ` (heap limit ${heapMb} MB)` : ''}: ${oom}`;
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  const last = lines.at(-1);
  return `trial process ${how}${last ? `: ${last.slice(0, 300)}` : ''}`;
}

export class LocalPoolExecutor implements Executor {
  readonly kind = 'pool' as const;
  readonly slots: number;
  private listener: ExecutorListener | null = null;
  private readonly children: Child[] = [];
  private readonly pending: TrialJob[] = [];
  private closing = false;
  /** Children replaced after a crash. */
  replaced = 0;

  constructor(private readonly opts: PoolOptions = {}) {
    this.slots = opts.size ?? os.availableParallelism();
    checkPoolSize(this.slots);
  }

  /** Starts the children and waits until each has loaded. */
  async start(listener: ExecutorListener): Promise<void> {
    this.listener = listener;
    while (this.children.length < this.slots) this.spawn();
    await Promise.all(this.children.map((c) => c.ready));
  }

  private spawn(): Child {
    const { file, execArgv } = childEntry(import.meta.url, 'pool-child');
    if (this.opts.maxOldSpaceMb) execArgv.push(`--max-old-space-size=${this.opts.maxOldSpaceMb}`);
    const proc = fork(file, [], {
      execArgv,
      // Trials with threads 'auto' divide the cores among the pool's children (no oversubscription).
      env: { ...process.env, [POOL_WORKERS_ENV]: String(this.slots), ...this.opts.env },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    let markReady!: () => void;
    const child: Child = { proc, ready: new Promise<void>((r) => (markReady = r)), trialId: null, stderr: '', dead: false, killedForStop: false };
    proc.stderr!.on('data', (d: Buffer) => {
      child.stderr = (child.stderr + d.toString()).slice(-8192);
      if (this.opts.forwardStderr !== false) process.stderr.write(d);
    });
    proc.on('message', (m: ChildMsg) => {
      if (m.type === 'ready') markReady();
      else if (m.type === 'event') this.listener?.event(m.trialId, m.e);
      else if (m.type === 'end') {
        child.trialId = null;
        this.listener?.end(m.trialId, m.outcome);
        this.dispatch();
      }
    });
    proc.on('exit', (code, signal) => {
      child.dead = true;
      markReady();
      this.children.splice(this.children.indexOf(child), 1);
      const id = child.trialId;
      child.trialId = null;
      // Let the stderr pipe drain so the error carries V8's last words.
      setTimeout(() => {
        if (id !== null && child.killedForStop) {
          this.listener?.end(id, brokenOutcome('PRUNED', `did not stop within ${this.stopGraceMs} ms of the stop request; its process was killed`));
        } else if (id !== null) {
          const error = exitError(code, signal, child.stderr, this.opts.maxOldSpaceMb);
          this.listener?.end(id, brokenOutcome('FAILED', error));
        }
        if (!this.closing) {
          this.replaced++;
          this.spawn();
          this.dispatch();
        }
      }, 50);
    });
    proc.on('error', () => {
      /* 'exit' follows and reports */
    });
    this.children.push(child);
    return child;
  }

  async submit(job: TrialJob): Promise<void> {
    if (!this.listener) throw new Error('LocalPoolExecutor: call start() before submit()');
    this.pending.push(job);
    this.dispatch();
  }

  private dispatch(): void {
    while (this.pending.length > 0) {
      const idle = this.children.find((c) => c.trialId === null && !c.dead);
      if (!idle) return; // a finishing or respawned child dispatches again
      const job = this.pending.shift()!;
      idle.trialId = job.trialId;
      idle.proc.send({ type: 'run', job } satisfies ParentMsg);
    }
  }

  private get stopGraceMs(): number {
    return this.opts.stopGraceMs ?? 10_000;
  }

  stop(trialId: number): void {
    const c = this.children.find((ch) => ch.trialId === trialId);
    if (c?.proc.connected) {
      c.proc.send({ type: 'stop', trialId } satisfies ParentMsg);
      const t = setTimeout(() => {
        if (c.trialId !== trialId || c.dead) return;
        c.killedForStop = true;
        c.proc.kill('SIGKILL');
      }, this.stopGraceMs);
      t.unref();
    }
    const i = this.pending.findIndex((j) => j.trialId === trialId);
    if (i >= 0) {
      const [job] = this.pending.splice(i, 1);
      this.listener?.end(job!.trialId, brokenOutcome('PRUNED', 'stopped before it started'));
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    const exits = this.children.map((c) => new Promise<void>((r) => (c.dead ? r() : c.proc.once('exit', () => r()))));
    for (const c of this.children) {
      if (c.proc.connected) c.proc.disconnect();
      const t = setTimeout(() => c.proc.kill('SIGKILL'), 2000);
      t.unref();
    }
    await Promise.all(exits);
  }
}

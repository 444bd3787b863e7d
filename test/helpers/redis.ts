/** A real redis-server on a free loopback port for a test or benchmark; stopped by `stop()`. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  proc: ChildProcess;
  /** Stops it (SIGKILL when `hard`); with `appendonly` the data survives a `restart()`. */
  stop(hard?: boolean): Promise<void>;
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.end();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedis(opts: { appendonly?: boolean; password?: string } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
  args.push('--appendonly', opts.appendonly ? 'yes' : 'no');
  if (opts.appendonly) args.push('--appendfsync', 'always');
  if (opts.password) args.push('--requirepass', opts.password);
  const launch = async () => {
    const proc = spawn('/usr/bin/redis-server', args, { stdio: 'ignore' });
    await waitForPort(port, 10_000);
    return proc;
  };
  const r: TestRedis = {
    port,
    url: opts.password ? `redis://:${encodeURIComponent(opts.password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    dir,
    proc: await launch(),
    async stop(hard = false) {
      const p = r.proc;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((res) => p.once('exit', () => res()));
      p.kill(hard ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
    async restart() {
      await r.stop();
      r.proc = await launch();
    },
  };
  return r;
}

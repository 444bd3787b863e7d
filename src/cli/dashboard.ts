/** `tsnas dashboard`: live web view of a storage, updated as trials finish. */
import fs from 'node:fs';
import type { Command } from 'commander';
import { resolveHost, startDashboard } from '../dashboard/server.js';
import { SqliteReader } from '../store/sqlite-read.js';
import { UsageError } from './errors.js';
import { parseRate } from './report.js';

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('serve a live dashboard of a storage (updates every second while a search runs)')
    .requiredOption('--storage <url>', 'sqlite:FILE')
    .option('--port <n>', 'port', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port ${v}: give an integer port 0-65535`);
      return n;
    }, 8080)
    .option('--host <addr>', 'address to bind (default 127.0.0.1); a non-loopback address must be given here explicitly')
    .option('--allow-host <name...>', 'names besides loopback and --host that browsers may use to reach it (the Host header; guards against DNS rebinding)')
    .option('--name <name>', 'only this experiment')
    .option('--cost-per-hour <x>', 'money units per billed compute hour', parseRate)
    .action(async (o) => {
      const m = /^sqlite:(.+)$/.exec(o.storage);
      const file = m ? m[1]! : o.storage.includes(':') ? null : o.storage;
      if (!file) throw new UsageError(`--storage ${o.storage}: the dashboard reads sqlite:FILE storages`);
      if (!fs.existsSync(file)) throw new UsageError(`--storage ${o.storage}: no such file; start tsnas search with this storage first`);
      new SqliteReader(file).close(); // a file that is not a tsnas storage is refused here, in one line
      const { host, explicit } = resolveHost(o.host);
      const d = await startDashboard({
        file,
        storage: o.storage,
        host,
        hostExplicit: explicit,
        allowHosts: o.allowHost,
        port: o.port,
        names: o.name ? [o.name] : undefined,
        costPerHour: o.costPerHour,
      }).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE') throw new UsageError(`--port ${o.port}: already in use on ${host}; give another --port (0 picks a free one)`);
        if (e.code === 'EACCES') throw new UsageError(`--port ${o.port}: not allowed for this user; give a port above 1023`);
        if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') throw new UsageError(`--host ${host}: not an address of this machine`);
        throw e;
      });
      if (explicit && !['127.0.0.1', 'localhost', '::1'].includes(host)) {
        console.error(`tsnas: warning: the dashboard has no authentication and is reachable on ${host}`);
      }
      console.log(`tsnas dashboard on ${d.url} (Ctrl-C to stop)`);
      const stop = () => void d.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/**
 * Live dashboard: a fastify server showing the report's views on a page that polls /api/data every
 * second, so a finished trial appears within about a second; between polls the server checks the
 * storage every 250 ms and rebuilds the data when it changed. It reads the storage through a
 * read-only connection while a search writes it; a busy or half-created file is retried on the next
 * poll and the last good data is served meanwhile.
 *
 * It has no authentication, so it binds 127.0.0.1 by default and refuses a non-loopback address
 * unless that address was given explicitly (`--host`), never from an environment variable; it answers
 * only Host headers that name loopback, the bound address or an `--allow-host` name (./hosts.ts).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { buildReportData, type ReportData } from '../report/data.js';
import { echartsJs, renderPage } from '../report/html.js';
import { HostError, hostPolicy, isLoopback } from './hosts.js';
import { isTransient, StorageReader } from './reader.js';

export { HostError, isLoopback, resolveHost } from './hosts.js';

export interface DashboardOptions {
  /** Path of the SQLite file. */
  file: string;
  /** Label shown on the page (e.g. the storage URL). */
  storage?: string;
  host?: string;
  /** Whether `host` was given explicitly by the user; required for a non-loopback address. */
  hostExplicit?: boolean;
  /** Extra names accepted in the Host header besides loopback and `host` (e.g. this machine's DNS name). */
  allowHosts?: string[];
  port?: number;
  pollMs?: number;
  /** How often the server checks the storage for changes between polls; default 250 ms. */
  watchMs?: number;
  names?: string[];
  costPerHour?: number;
}

export interface Dashboard {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Keeps the last built data and rebuilds it when the storage changed. */
class LiveData {
  version = 0;
  data: ReportData | null = null;
  lastError: string | null = null;
  /** When the last build ended and how long it took (ms). */
  builtAt = 0;
  buildMs = 0;
  private seen: number | null = null;
  private building: Promise<void> | null = null;

  constructor(
    private readonly reader: StorageReader,
    private readonly opts: DashboardOptions,
  ) {}

  refresh(): Promise<void> {
    this.building ??= this.build().finally(() => (this.building = null));
    return this.building;
  }

  /** Resolves when no build is in flight (so the reader can be closed). */
  settled(): Promise<void> {
    return (this.building ?? Promise.resolve()).catch(() => undefined);
  }

  private async build(): Promise<void> {
    try {
      const dv = this.reader.dataVersion();
      if (this.data && dv === this.seen) return;
      const t0 = Date.now();
      const data = await buildReportData(this.reader, {
        storage: this.opts.storage ?? `sqlite:${this.opts.file}`,
        names: this.opts.names,
        costPerHour: this.opts.costPerHour,
      });
      data.title = 'tsnas dashboard';
      this.seen = dv;
      this.data = data;
      this.version++;
      this.lastError = null;
      this.builtAt = Date.now();
      this.buildMs = this.builtAt - t0;
    } catch (e) {
      if (!isTransient(e)) throw e;
      this.lastError = (e as Error).message; // busy: serve the last data, retry on the next poll
    }
  }
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && opts.hostExplicit !== true) {
    throw new HostError(`refusing to bind ${host}: not a loopback address and not given explicitly with --host`);
  }
  const reader = new StorageReader(opts.file);
  const live = new LiveData(reader, opts);
  // Watch the storage between polls (one cheap pragma when unchanged) so a poll finds the data built.
  // A big storage under constant writes would be rebuilt back to back: leave the CPU idle at least as
  // long as the last build took.
  const watch = setInterval(() => {
    if (Date.now() - live.builtAt >= live.buildMs) void live.refresh().catch(() => undefined);
  }, opts.watchMs ?? 250);
  watch.unref();
  const app = Fastify({ logger: false });
  const hostOk = hostPolicy(host, opts.allowHosts);
  app.addHook('onRequest', async (req, reply) => {
    if (hostOk(req.headers.host)) return;
    const name = JSON.stringify(String(req.headers.host ?? '').slice(0, 100));
    return reply
      .code(403)
      .type('text/plain; charset=utf-8')
      .send(`tsnas dashboard: Host ${name} is not allowed (DNS rebinding guard); open it by a loopback address or start it with --allow-host NAME\n`);
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Cache-Control', 'no-store');
  });

  app.get('/', async (_req, reply) => {
    await live.refresh();
    const data = live.data ?? emptyData(opts);
    reply.type('text/html; charset=utf-8');
    return renderPage(data, { live: true, pollMs: opts.pollMs ?? 1000, version: live.version, echartsSrc: 'echarts.min.js' });
  });
  app.get('/echarts.min.js', async (_req, reply) => {
    reply.type('application/javascript; charset=utf-8');
    return echartsJs();
  });
  app.get<{ Querystring: { v?: string } }>('/api/data', async (req, reply) => {
    await live.refresh();
    if (!live.data || String(live.version) === req.query.v) return reply.code(204).send();
    return { version: live.version, data: live.data, warning: live.lastError };
  });

  try {
    await app.listen({ host, port: opts.port ?? 8080 });
  } catch (e) {
    clearInterval(watch);
    reader.close();
    throw e;
  }
  const addr = app.server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    app,
    url: `http://${shown}:${addr.port}/`,
    close: async () => {
      clearInterval(watch);
      await app.close();
      await live.settled();
      reader.close();
    },
  };
}

function emptyData(opts: DashboardOptions): ReportData {
  return {
    title: 'tsnas dashboard',
    storage: opts.storage ?? `sqlite:${opts.file}`,
    generatedAt: new Date().toISOString(),
    costPerHour: opts.costPerHour ?? null,
    totalTrials: 0,
    experiments: [],
  };
}

/**
 * Live dashboard: a fastify server showing the report's views on a page that polls /api/data every
 * second with a cursor and gets only what changed since (./live.ts), so a finished trial appears
 * within about a second and a 12,000-trial storage under constant writes stays responsive. A model
 * process (./model-child.ts) reads the storage every 250 ms through a read-only connection, only the
 * new or still-open trials, and rebuilds the charts' summaries at most every second; a busy or
 * half-created file is retried on the next tick and the last good data is served meanwhile.
 *
 * It has no authentication, so it binds 127.0.0.1 by default and refuses a non-loopback address
 * unless that address was given explicitly (`--host`), never from an environment variable; it answers
 * only Host headers that name loopback, the bound address or an `--allow-host` name (./hosts.ts).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { ReportData } from '../report/data.js';
import { echartsJs, renderPage } from '../report/html.js';
import { HostError, hostPolicy, isLoopback } from './hosts.js';
import { LiveSource } from './live.js';
import { StorageReader } from './reader.js';

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
  /** How often the model process checks the storage for changes; default 250 ms. */
  watchMs?: number;
  /** Experiment summaries (charts, totals) are rebuilt at most this often while trials stream in; default 1000 ms. */
  summaryMs?: number;
  names?: string[];
  costPerHour?: number;
}

export interface Dashboard {
  app: FastifyInstance;
  url: string;
  /** Resolves once the model process has read the storage (or after `timeoutMs`). */
  ready(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && opts.hostExplicit !== true) {
    throw new HostError(`refusing to bind ${host}: not a loopback address and not given explicitly with --host`);
  }
  new StorageReader(opts.file).close(); // a missing or foreign file is an error now, not in the model process
  const storage = opts.storage ?? `sqlite:${opts.file}`;
  const source = new LiveSource({
    file: opts.file,
    storage,
    names: opts.names,
    costPerHour: opts.costPerHour,
    watchMs: opts.watchMs ?? 250,
    summaryMs: opts.summaryMs ?? 1000,
  });
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

  // The page comes empty and asks /api/data for everything at once, then for what changed since.
  app.get('/', async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return renderPage(emptyData(opts), { live: true, pollMs: opts.pollMs ?? 1000, echartsSrc: 'echarts.min.js' });
  });
  app.get('/echarts.min.js', async (_req, reply) => {
    reply.type('application/javascript; charset=utf-8');
    return echartsJs();
  });
  app.get<{ Querystring: { since?: string } }>('/api/data', async (req, reply) => {
    const state = source.state;
    if (state.error) return reply.code(500).type('text/plain; charset=utf-8').send(`tsnas dashboard: ${state.error}\n`);
    // Nothing read yet (just started, or the storage is locked): wait briefly for the model.
    if (!state.hasData) await source.next(Math.min(opts.pollMs ?? 1000, 1000));
    const body = state.hasData ? state.deltaJson(req.query.since) : null;
    if (body === null) return reply.code(204).send();
    return reply.type('application/json; charset=utf-8').send(body);
  });

  try {
    await app.listen({ host, port: opts.port ?? 8080 });
  } catch (e) {
    await source.close();
    throw e;
  }
  const addr = app.server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    app,
    url: `http://${shown}:${addr.port}/`,
    ready: async (timeoutMs = 30_000) => {
      const end = Date.now() + timeoutMs;
      while (!source.state.hasData && !source.state.error && Date.now() < end) await source.next(Math.min(1000, end - Date.now()));
      return source.state.hasData;
    },
    close: async () => {
      await app.close();
      await source.close();
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

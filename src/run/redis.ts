/**
 * Redis plumbing shared by the BullMQ coordinator and workers: URL checks, a fast reachability
 * probe (so a bad or unreachable URL is a one-line error within seconds, not a hang), and a
 * watchdog that turns a Redis outage longer than a limit into a one-line error.
 */
import { Redis } from 'ioredis';

export class RedisUnavailable extends Error {
  override name = 'RedisUnavailable';
  readonly userError = true;
}

export interface RedisConn {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, never>;
}

/** Parses `redis://[user:pass@]host:port[/db]` (or rediss://) into connection options. */
export function parseRedisUrl(url: string): RedisConn {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUnavailable(`--redis ${url}: not a URL; use redis://HOST:PORT, e.g. redis://127.0.0.1:6379`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new RedisUnavailable(`--redis ${url}: scheme ${u.protocol} is not redis: or rediss:; use redis://HOST:PORT`);
  }
  if (!u.hostname) throw new RedisUnavailable(`--redis ${url}: no host; use redis://HOST:PORT`);
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new RedisUnavailable(`--redis ${url}: database "${u.pathname.slice(1)}" is not a number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** Connects once with no retries and PINGs; throws RedisUnavailable within about `timeoutMs`. */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  const conn = parseRedisUrl(url);
  const r = new Redis({ ...conn, lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  let seen = '';
  r.on('error', (e: NodeJS.ErrnoException) => (seen ||= e.code ?? e.message));
  const timer = new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref());
  try {
    await Promise.race([r.connect().then(() => r.ping()), timer]);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new RedisUnavailable(`cannot reach Redis at ${url}: ${seen || err.code || err.message}`);
  } finally {
    r.disconnect();
  }
}

/** A client that reconnects forever (BullMQ's requirement); pair it with a watchdog. */
export function connectRedis(url: string): Redis {
  const r = new Redis({ ...parseRedisUrl(url), maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(100 * n, 1000) });
  r.on('error', () => {});
  return r;
}

/**
 * Calls `onLost` once when `client` has not been connected for `limitS` seconds. Returns a stop
 * function. A short outage (a Redis restart) passes unnoticed: clients reconnect by themselves.
 */
export function watchRedis(client: Redis, url: string, limitS: number, onLost: (e: RedisUnavailable) => void): () => void {
  let downSince: number | null = null;
  let lastError = '';
  client.on('error', (e: NodeJS.ErrnoException) => (lastError = e.code ?? e.message));
  const t = setInterval(() => {
    if (client.status === 'ready') {
      downSince = null;
      return;
    }
    downSince ??= Date.now();
    if (Date.now() - downSince >= limitS * 1000) {
      clearInterval(t);
      onLost(new RedisUnavailable(`lost Redis at ${url} for ${limitS} s (${lastError || client.status}); is redis-server running?`));
    }
  }, 250);
  t.unref();
  return () => clearInterval(t);
}

/**
 * Redis plumbing shared by the BullMQ coordinator and workers: URL checks, a fast reachability
 * probe (so a bad or unreachable URL is a one-line error within seconds, not a hang), and a
 * watchdog that turns a Redis outage longer than a limit into a one-line error.
 */
import fs from 'node:fs';
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
  tls?: { ca?: Buffer };
}

/** The URL with its password replaced by *** (for messages and logs). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}

/**
 * Parses `redis://[user:pass@]host:port[/db]` (or rediss:// for TLS) into connection options. Without
 * a password in the URL, TSNAS_REDIS_PASSWORD is used (keeps it out of `ps` and shell history);
 * TSNAS_REDIS_CA names a PEM file of the certificate authority a rediss:// server is checked against
 * (default: the system's). Coordinator and workers both connect through here.
 */
export function parseRedisUrl(url: string, env: NodeJS.ProcessEnv = process.env): RedisConn {
  const shown = redactUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUnavailable(`--redis ${shown}: not a URL; use redis://HOST:PORT, e.g. redis://127.0.0.1:6379`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new RedisUnavailable(`--redis ${shown}: scheme ${u.protocol} is not redis: or rediss:; use redis://HOST:PORT`);
  }
  if (!u.hostname) throw new RedisUnavailable(`--redis ${shown}: no host; use redis://HOST:PORT`);
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new RedisUnavailable(`--redis ${shown}: database "${u.pathname.slice(1)}" is not a number`);
  const password = u.password ? decodeURIComponent(u.password) : env.TSNAS_REDIS_PASSWORD || undefined;
  let tls: RedisConn['tls'];
  if (u.protocol === 'rediss:') {
    tls = {};
    if (env.TSNAS_REDIS_CA) {
      try {
        tls.ca = fs.readFileSync(env.TSNAS_REDIS_CA);
      } catch (e) {
        throw new RedisUnavailable(`TSNAS_REDIS_CA=${env.TSNAS_REDIS_CA}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'}); give a PEM file of the CA`);
      }
    }
  }
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(password ? { password } : {}),
    ...(db !== undefined ? { db } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** A warning when `url` reaches a non-loopback Redis without a password (anyone there can submit trials). */
export function insecureRedisWarning(url: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const c = parseRedisUrl(url, env);
  const h = c.host.toLowerCase();
  if (c.password || h === 'localhost' || h === '::1' || /^127\./.test(h)) return null;
  return `tsnas: warning: Redis at ${h}:${c.port} has no password in the URL or TSNAS_REDIS_PASSWORD; whoever reaches it can queue jobs for the workers (see docs/distributed.md)`;
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
    if (/NOAUTH|WRONGPASS|invalid password/i.test(`${seen} ${err.message}`)) {
      throw new RedisUnavailable(
        `Redis at ${redactUrl(url)} refused the password (or needs one): give it as redis://:PASSWORD@HOST:PORT or in TSNAS_REDIS_PASSWORD`,
      );
    }
    throw new RedisUnavailable(`cannot reach Redis at ${redactUrl(url)}: ${seen || err.code || err.message}`);
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
      onLost(new RedisUnavailable(`lost Redis at ${redactUrl(url)} for ${limitS} s (${lastError || client.status}); is redis-server running?`));
    }
  }, 250);
  t.unref();
  return () => clearInterval(t);
}

/**
 * Who may talk to the dashboard. It has no authentication, so (1) it binds loopback unless a
 * non-loopback address is given explicitly with `--host`, and (2) it answers only requests whose
 * `Host` header names a loopback address, the address it is bound to, one of this machine's own IP
 * addresses when bound to all of them, or a name allowed with `--allow-host`. (2) defeats DNS
 * rebinding: a page on evil.example whose name is re-pointed at 127.0.0.1 still sends
 * `Host: evil.example`, which is refused.
 */
import os from 'node:os';

export class HostError extends Error {
  override name = 'HostError';
  readonly userError = true;
}

function bare(host: string): string {
  return host.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

export function isLoopback(host: string): boolean {
  const h = bare(host);
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/** The address to bind: `--host` when given, else TSNAS_DASHBOARD_HOST if loopback, else 127.0.0.1. */
export function resolveHost(cliHost: string | undefined, env: NodeJS.ProcessEnv = process.env): { host: string; explicit: boolean } {
  if (cliHost !== undefined && cliHost !== '') return { host: cliHost, explicit: true };
  const fromEnv = env.TSNAS_DASHBOARD_HOST;
  if (fromEnv) {
    if (!isLoopback(fromEnv)) {
      throw new HostError(
        `TSNAS_DASHBOARD_HOST=${fromEnv} is not a loopback address; the dashboard has no authentication, ` +
          `so pass --host ${fromEnv} explicitly to expose it`,
      );
    }
    return { host: fromEnv, explicit: false };
  }
  return { host: '127.0.0.1', explicit: false };
}

/** The host name of a Host header value (`name:port`, `[v6]:port`), lower-cased; '' when absent or malformed. */
export function hostName(header: string | undefined): string {
  if (!header) return '';
  const h = header.trim();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? bare(h.slice(0, end + 1)) : '';
  }
  const colon = h.lastIndexOf(':');
  return bare(colon >= 0 ? h.slice(0, colon) : h);
}

/** Decides whether a request's Host header may be answered by a dashboard bound to `bound`. */
export function hostPolicy(bound: string, allowHosts: readonly string[] = []): (header: string | undefined) => boolean {
  const allowed = new Set([bound, ...allowHosts].map(bare));
  const b = bare(bound);
  if (b === '0.0.0.0' || b === '::') {
    for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) allowed.add(bare(a.address));
  }
  return (header) => {
    const name = hostName(header);
    return name !== '' && (isLoopback(name) || allowed.has(name));
  };
}

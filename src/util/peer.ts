/**
 * TensorFlow.js is a peer dependency (as for tfjs add-ons), so an app has one copy of it. The CLI and
 * the lazily loaded entry points check it first and name the install command instead of failing
 * with a module-resolution stack trace.
 */
import { createRequire } from 'node:module';

export const TF_PEERS = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] as const;

/** A one-line message naming the packages of `names` that cannot be resolved from tsnas, or null. */
export function missingPeers(names: readonly string[] = TF_PEERS): string | null {
  const require = createRequire(import.meta.url);
  const missing = names.filter((n) => {
    try {
      require.resolve(`${n}/package.json`);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return null;
  return `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed; tsnas needs ${names.join(' and ')} beside it (peer dependencies): npm install ${names.join(' ')}`;
}

export class MissingPeerError extends Error {
  override name = 'MissingPeerError';
  readonly userError = true;
}

/** Throws MissingPeerError (a user error: one line, exit 2 in the CLI) when a peer is missing. */
export function requirePeers(names: readonly string[] = TF_PEERS): void {
  const m = missingPeers(names);
  if (m) throw new MissingPeerError(m);
}

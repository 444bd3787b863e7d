/** Opens a store from a storage URL: `sqlite:path/to/file.db` (default scheme) or `memory:`. */
import { MemoryStore } from './memory.js';
import { SqliteStore } from './sqlite.js';
import { StorageError, TrialNumberTaken } from './errors.js';
import type { Store } from './types.js';

export * from './types.js';
export { MemoryStore, SqliteStore, StorageError, TrialNumberTaken };

export function openStore(url: string): Store {
  if (url === 'memory:' || url === 'memory') return new MemoryStore();
  const m = /^([a-z0-9+]+):(.*)$/i.exec(url);
  if (m && m[1]!.length > 1) {
    const [, scheme, rest] = m;
    if (scheme!.toLowerCase() !== 'sqlite') {
      throw new StorageError(`storage ${url}: unknown scheme "${scheme}"; use sqlite:FILE or memory:`);
    }
    if (!rest) throw new StorageError(`storage ${url}: no file given; use sqlite:FILE, e.g. sqlite:runs.db`);
    return new SqliteStore(rest);
  }
  if (!url) throw new StorageError('storage: empty; use sqlite:FILE or memory:');
  return new SqliteStore(url);
}

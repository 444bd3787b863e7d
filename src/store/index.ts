/** Opens a store from a storage URL: `sqlite:path/to/file.db` (default scheme) or `memory:`. */
import { MemoryStore } from './memory.js';
import { SqliteStore } from './sqlite.js';
import { SqliteReader } from './sqlite-read.js';
import { StorageError, TrialNumberTaken } from '../core/errors.js';
import type { Store } from '../core/store.js';

export * from '../core/store.js';
export { MemoryStore, SqliteStore, SqliteReader, StorageError, TrialNumberTaken };

/** What the read-only commands (trials, best, report, dashboard) need of a storage. */
export type ReadOnlyStore = Pick<Store, 'listExperiments' | 'getExperiment' | 'getTrials' | 'close'>;

/** The file of a sqlite storage URL (`sqlite:FILE` or a bare path), or null for memory: and unknown schemes. */
export function storageFile(url: string): string | null {
  if (url === 'memory:' || url === 'memory') return null;
  const m = /^([a-z0-9+]+):(.*)$/i.exec(url);
  if (m && m[1]!.length > 1) return m[1]!.toLowerCase() === 'sqlite' ? m[2]! : null;
  return url;
}

/** Opens an existing storage read-only: never creates, migrates or writes it (src/store/sqlite-read.ts). */
export function openReadOnly(url: string): ReadOnlyStore {
  if (url === 'memory:' || url === 'memory') throw new StorageError(`--storage ${url}: a memory storage ends with its search; read a sqlite:FILE storage`);
  const file = storageFile(url);
  if (file === null) openStore(url); // the scheme's error
  if (!file) throw new StorageError(`--storage ${url}: no file given; use sqlite:FILE, e.g. sqlite:runs.db`);
  return new SqliteReader(file);
}

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

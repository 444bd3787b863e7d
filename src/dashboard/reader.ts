/**
 * The dashboard's view of a storage: the store's one read-only opener (src/store/sqlite-read.ts),
 * waiting at most `busyMs` for a lock so the server never stalls, and accepting a file whose tables a
 * starting search has not created yet (the server retries on the next poll).
 */
import { isTransient, SqliteReader } from '../store/sqlite-read.js';

export { isTransient };

export class StorageReader extends SqliteReader {
  constructor(file: string, busyMs = 250) {
    super(file, { busyMs, allowEmpty: true });
  }
}

/**
 * Read-only view of a tsnas SQLite storage for the dashboard. It never writes (the connection is
 * opened read-only, falling back to `query_only` when SQLite cannot open the WAL file read-only), waits
 * at most `busyMs` for a lock so the server never stalls, and reads every experiment's trials in one
 * snapshot. `dataVersion()` changes when another connection commits, so unchanged storage costs
 * one pragma per poll.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import { readExperiments, readTrials } from '../store/sqlite.js';
import type { ExperimentRecord, TrialRecord } from '../store/types.js';

export class StorageReader {
  private db: Database.Database;

  constructor(
    readonly file: string,
    busyMs = 250,
  ) {
    if (!fs.existsSync(file)) throw new Error(`storage sqlite:${file}: no such file`);
    try {
      this.db = new Database(file, { readonly: true, fileMustExist: true, timeout: busyMs });
      this.db.prepare('SELECT COUNT(*) FROM experiments').get();
    } catch (first) {
      try {
        this.db = new Database(file, { fileMustExist: true, timeout: busyMs });
        this.db.pragma('query_only = 1');
      } catch {
        throw Object.assign(new Error(`storage sqlite:${file}: cannot read it (${(first as Error).message})`), { userError: true });
      }
      if (!isTransient(first) && !/readonly|read-only|unable to open/i.test((first as Error).message)) {
        this.db.close();
        throw Object.assign(new Error(`storage sqlite:${file}: not a tsnas storage (${(first as Error).message})`), { userError: true });
      }
    }
  }

  /** Changes whenever another connection committed to the file. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  listExperiments(): ExperimentRecord[] {
    return readExperiments(this.db);
  }

  getTrials(experimentId: number): readonly TrialRecord[] {
    return readTrials(this.db, experimentId);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** SQLITE_BUSY / SQLITE_LOCKED and a schema not yet created by the writer: try again on the next tick. */
export function isTransient(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  const msg = (e as Error).message ?? '';
  return /^SQLITE_(BUSY|LOCKED)/.test(code) || /no such table/i.test(msg);
}

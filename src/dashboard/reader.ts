/**
 * Read-only view of a tsnas SQLite storage for the dashboard. It never writes (the connection is
 * opened read-only, falling back to `query_only` when SQLite cannot open the WAL file read-only), waits
 * at most `busyMs` for a lock so the server never stalls, and reads every experiment's trials in one
 * snapshot. `dataVersion()` changes when another connection commits, so unchanged storage costs
 * one pragma per poll. `trialsAfter` and `trialsById` read only new or still-open trials, so a poll
 * of a 12,000-trial storage costs what changed, not what is there.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import { readExperiments, readTrials, toRecord, type TrialRow } from '../store/sqlite.js';
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

  /** Trials of an experiment with an id above `afterId` (new since the last read), by number. */
  trialsAfter(experimentId: number, afterId: number): TrialRecord[] {
    return this.db.transaction(() => {
      const rows = this.db.prepare('SELECT * FROM trials WHERE experiment_id = ? AND id > ? ORDER BY number').all(experimentId, afterId) as TrialRow[];
      return this.withIntermediate(rows, 'SELECT * FROM intermediate WHERE trial_id > ? ORDER BY trial_id, step', [afterId]);
    })();
  }

  /** These trials as they are now (trials still running at the last read). */
  trialsById(ids: readonly number[]): TrialRecord[] {
    if (ids.length === 0) return [];
    const marks = ids.map(() => '?').join(',');
    return this.db.transaction(() => {
      const rows = this.db.prepare(`SELECT * FROM trials WHERE id IN (${marks})`).all(...ids) as TrialRow[];
      return this.withIntermediate(rows, `SELECT * FROM intermediate WHERE trial_id IN (${marks}) ORDER BY trial_id, step`, ids);
    })();
  }

  /** How many trials an experiment has, and its largest trial id (to notice a replaced storage). */
  trialStats(experimentId: number): { count: number; maxId: number } {
    const r = this.db.prepare('SELECT COUNT(*) AS count, COALESCE(MAX(id), 0) AS maxId FROM trials WHERE experiment_id = ?').get(experimentId) as { count: number; maxId: number };
    return r;
  }

  private withIntermediate(rows: TrialRow[], sql: string, args: readonly unknown[]): TrialRecord[] {
    const inter = new Map<number, { step: number; value: number }[]>();
    for (const iv of this.db.prepare(sql).all(...args) as { trial_id: number; step: number; value: number }[]) {
      let list = inter.get(iv.trial_id);
      if (!list) inter.set(iv.trial_id, (list = []));
      list.push({ step: iv.step, value: iv.value });
    }
    return rows.map((r) => toRecord(r, inter.get(r.id) ?? []));
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

/**
 * Read-only view of a tsnas SQLite storage for the dashboard. It never writes (the connection is
 * opened read-only, falling back to `query_only` when SQLite cannot open the WAL file read-only), waits
 * at most `busyMs` for a lock so the server never stalls, and reads every experiment's trials in one
 * snapshot. `dataVersion()` changes when another connection commits, so unchanged storage costs
 * one pragma per poll.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import type { ExperimentRecord, TrialRecord, TrialState } from '../store/types.js';

interface TrialRow {
  id: number;
  experiment_id: number;
  number: number;
  state: TrialState;
  params: string;
  distributions: string;
  values: string | null;
  cost: string;
  attrs: string;
  error: string | null;
  created_at: number;
  finished_at: number | null;
  heartbeat_at: number | null;
  owner: string | null;
}

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
    const rows = this.db.prepare('SELECT * FROM experiments ORDER BY id').all() as { id: number; name: string; config: string; created_at: number }[];
    return rows.map((r) => ({ id: r.id, name: r.name, config: JSON.parse(r.config), createdAt: r.created_at }));
  }

  getTrials(experimentId: number): readonly TrialRecord[] {
    return this.db.transaction(() => {
      const rows = this.db.prepare('SELECT * FROM trials WHERE experiment_id = ? ORDER BY number').all(experimentId) as TrialRow[];
      const inter = new Map<number, { step: number; value: number }[]>();
      const ivs = this.db
        .prepare(
          `SELECT i.trial_id AS trial_id, i.step AS step, i.value AS value FROM intermediate i
           JOIN trials t ON t.id = i.trial_id WHERE t.experiment_id = ? ORDER BY i.trial_id, i.step`,
        )
        .all(experimentId) as { trial_id: number; step: number; value: number }[];
      for (const iv of ivs) {
        let list = inter.get(iv.trial_id);
        if (!list) inter.set(iv.trial_id, (list = []));
        list.push({ step: iv.step, value: iv.value });
      }
      return rows.map(
        (r): TrialRecord => ({
          id: r.id,
          experimentId: r.experiment_id,
          number: r.number,
          state: r.state,
          params: JSON.parse(r.params),
          distributions: JSON.parse(r.distributions),
          values: r.values === null ? null : JSON.parse(r.values),
          intermediate: inter.get(r.id) ?? [],
          cost: JSON.parse(r.cost),
          attrs: JSON.parse(r.attrs),
          error: r.error,
          createdAt: r.created_at,
          finishedAt: r.finished_at,
          heartbeatAt: r.heartbeat_at,
          owner: r.owner,
        }),
      );
    })();
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

/**
 * The dashboard's view of a storage: the store's one read-only opener (src/store/sqlite-read.ts),
 * waiting at most `busyMs` for a lock so the server never stalls, and accepting a file whose tables a
 * starting search has not created yet (the server retries on the next poll). `trialsAfter` and
 * `trialsById` read only new or still-open trials, so a poll of a 12,000-trial storage costs what
 * changed, not what is there.
 */
import type { TrialRecord } from '../core/store.js';
import { isTransient, SqliteReader, toRecord, type TrialRow } from '../store/sqlite-read.js';

export { isTransient };

export class StorageReader extends SqliteReader {
  constructor(file: string, busyMs = 250) {
    super(file, { busyMs, allowEmpty: true });
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
    return this.db.prepare('SELECT COUNT(*) AS count, COALESCE(MAX(id), 0) AS maxId FROM trials WHERE experiment_id = ?').get(experimentId) as { count: number; maxId: number };
  }

  private withIntermediate(rows: TrialRow[], sql: string, args: readonly unknown[]): TrialRecord[] {
    const inter = new Map<number, { step: number; value: number | string }[]>();
    for (const iv of this.db.prepare(sql).all(...args) as { trial_id: number; step: number; value: number | string }[]) {
      let list = inter.get(iv.trial_id);
      if (!list) inter.set(iv.trial_id, (list = []));
      list.push({ step: iv.step, value: iv.value });
    }
    return rows.map((r) => toRecord(this.file, r, inter.get(r.id) ?? []));
  }
}

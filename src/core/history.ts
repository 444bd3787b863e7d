/**
 * The experiment's decoded history, kept in memory: each read asks the store only for the trials
 * created or changed since the last one (its change counter), so a trial costs O(new rows), not
 * O(history). Writes by other processes (pool children's events recorded here, queue workers, a
 * second search on the same file) are seen on the next read.
 */
import type { Store, TrialRecord } from './store.js';

export class HistoryCache {
  private list: readonly TrialRecord[] = [];
  private readonly index = new Map<number, number>();
  private seq = 0;

  constructor(
    private readonly store: Store,
    private readonly experimentId: number,
  ) {}

  /** Every trial, ordered by number; the array is not changed later (a new one comes after a change). */
  all(): readonly TrialRecord[] {
    const { trials, seq } = this.store.getTrialsSince(this.experimentId, this.seq);
    this.seq = seq;
    if (trials.length === 0) return this.list;
    const next = [...this.list];
    let sorted = true;
    for (const t of trials) {
      const i = this.index.get(t.id);
      if (i !== undefined) next[i] = t;
      else {
        if (next.length > 0 && next[next.length - 1]!.number > t.number) sorted = false;
        this.index.set(t.id, next.length);
        next.push(t);
      }
    }
    if (!sorted) {
      next.sort((a, b) => a.number - b.number);
      next.forEach((t, i) => this.index.set(t.id, i));
    }
    this.list = next;
    return next;
  }

  /** One trial as last read (call `all()` first for the newest). */
  get(trialId: number): TrialRecord | undefined {
    const i = this.index.get(trialId);
    return i === undefined ? undefined : this.list[i];
  }
}

/**
 * The dashboard's view of a storage, kept up to date incrementally (it runs in a child process, see
 * model-child.ts, so the server's event loop never waits for it). A poll reads only trials that are
 * new or were still open at the last read (plus those finished in the last few seconds, whose last
 * attributes may land just after), and returns their report rows; experiment summaries (totals,
 * anytime curve, importance, Pareto front, best architecture) are rebuilt from the kept trials when
 * asked, which the child does at most every second or so.
 */
import { experimentSummary, reportTrial, type ExperimentSummary, type ReportTrial } from '../report/data.js';
import type { ExperimentRecord, TrialRecord } from '../core/store.js';
import type { StorageReader } from './reader.js';

/** Finished trials are re-read this long after they finish (attributes written right after the finish). */
const SETTLE_MS = 5000;

export interface ModelChanges {
  /** The storage was replaced (fewer trials than kept): the receiver starts over. */
  reset: boolean;
  /** Experiment ids in display order. */
  order: number[];
  trials: { experimentId: number; rows: ReportTrial[] }[];
}

interface Kept {
  rec: ExperimentRecord;
  trials: TrialRecord[];
  index: Map<number, number>;
  maxId: number;
  dirty: boolean;
  summarized: boolean;
}

export class LiveModel {
  private readonly exps = new Map<number, Kept>();
  private seen: number | null = null;

  constructor(
    private readonly reader: StorageReader,
    private readonly opts: { names?: string[]; costPerHour?: number } = {},
  ) {}

  /** A read failed half-way (busy storage): the next poll starts over, as a reset. */
  private broken = false;

  /** What changed since the last poll, or null when the storage was not written. */
  poll(): ModelChanges | null {
    try {
      return this.read();
    } catch (e) {
      this.exps.clear();
      this.seen = null;
      this.broken = true;
      throw e;
    }
  }

  private read(): ModelChanges | null {
    const dv = this.reader.dataVersion();
    if (dv === this.seen) return null;
    let recs = this.reader.listExperiments();
    if (this.opts.names?.length) recs = recs.filter((e) => this.opts.names!.includes(e.name));
    // A storage deleted and created again, or rewritten: start over from what is there now.
    const reset =
      this.broken ||
      [...this.exps.keys()].some((id) => !recs.some((r) => r.id === id)) ||
      recs.some((rec) => {
        const k = this.exps.get(rec.id);
        return k !== undefined && (k.rec.name !== rec.name || this.reader.trialStats(rec.id).count < k.trials.length);
      });
    if (reset) this.exps.clear();
    const out: ModelChanges = { reset, order: recs.map((e) => e.id), trials: [] };
    const now = Date.now();
    for (const rec of recs) {
      let k = this.exps.get(rec.id);
      if (!k) this.exps.set(rec.id, (k = { rec, trials: [], index: new Map(), maxId: 0, dirty: true, summarized: false }));
      k.rec = rec;
      const open = k.trials.filter((t) => t.finishedAt === null || now - t.finishedAt < SETTLE_MS).map((t) => t.id);
      const changed = [...this.reader.trialsById(open), ...this.reader.trialsAfter(rec.id, k.maxId)];
      const rows: ReportTrial[] = [];
      let unsorted = false;
      for (const t of changed) {
        const i = k.index.get(t.id);
        if (i !== undefined) {
          if (sameTrial(k.trials[i]!, t)) continue;
          k.trials[i] = t;
        } else {
          if (k.trials.length && k.trials[k.trials.length - 1]!.number > t.number) unsorted = true;
          k.index.set(t.id, k.trials.length);
          k.trials.push(t);
          k.maxId = Math.max(k.maxId, t.id);
        }
        rows.push(reportTrial(t, rec));
      }
      if (unsorted) {
        k.trials.sort((a, b) => a.number - b.number);
        k.index = new Map(k.trials.map((t, i) => [t.id, i]));
      }
      if (rows.length) {
        k.dirty = true;
        out.trials.push({ experimentId: rec.id, rows });
      }
    }
    this.seen = dv;
    this.broken = false;
    return out;
  }

  /** Whether some experiment has changes its summary does not show yet. */
  get dirty(): boolean {
    for (const k of this.exps.values()) if (k.dirty) return true;
    return false;
  }

  /** Whether an experiment has never been summarised (its rows cannot be shown without one). */
  get unsummarized(): boolean {
    for (const k of this.exps.values()) if (!k.summarized) return true;
    return false;
  }

  /** Fresh summaries of the experiments that changed since the last call. */
  async summaries(): Promise<ExperimentSummary[]> {
    const out: ExperimentSummary[] = [];
    for (const k of this.exps.values()) {
      if (!k.dirty) continue;
      k.dirty = false;
      k.summarized = true;
      const summary = await experimentSummary(k.rec, k.trials, this.opts.costPerHour);
      summary.anytime = { ...summary.anytime, points: changePoints(summary.anytime.points) };
      out.push(summary);
    }
    return out;
  }
}

function sameTrial(a: TrialRecord, b: TrialRecord): boolean {
  return (
    a.state === b.state &&
    a.finishedAt === b.finishedAt &&
    a.intermediate.length === b.intermediate.length &&
    a.error === b.error &&
    JSON.stringify(a.attrs) === JSON.stringify(b.attrs) &&
    JSON.stringify(a.system) === JSON.stringify(b.system) &&
    JSON.stringify(a.params) === JSON.stringify(b.params) &&
    JSON.stringify(a.values) === JSON.stringify(b.values) &&
    JSON.stringify(a.cost) === JSON.stringify(b.cost)
  );
}

/** The points where a best-so-far curve changes, and its last: the page draws the same step line from them, and a summary of 12,000 trials stays a few KB. */
export function changePoints<P extends { best: number | null }>(points: P[]): P[] {
  return points.filter((p, i) => i === points.length - 1 || (p.best !== null && (i === 0 || p.best !== points[i - 1]!.best)));
}

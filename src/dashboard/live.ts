/**
 * The server side of the dashboard's incremental updates. The model process (model-child.ts) sends
 * changed trial rows and summaries; LiveState numbers every change (`seq`) and answers a client's
 * cursor (`epoch.seq`) with only what changed after it: new or updated trial rows, and summaries
 * rebuilt since. A client with no cursor, or one from before a restart or a storage reset (another
 * epoch), gets everything (assembled from each row's cached JSON, and shared until the next change).
 * The event loop here never reads the storage, so a request is answered in milliseconds however big
 * the storage.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { ExperimentSummary, LiveDelta, ReportTrial } from '../report/data.js';
import { childEntry } from '../util/fork.js';
import type { ModelConfig, ModelMsg } from './model-child.js';

/** A trial row, with its JSON cached (full, and without the intermediate values for old trials). */
interface Row {
  row: ReportTrial;
  seq: number;
  json?: string;
  lite?: string;
}

interface ExpState {
  summary: ExperimentSummary;
  summarySeq: number;
  rows: Map<number, Row>;
}

/**
 * A full answer carries the intermediate values of only the latest trials (the learning-curve chart
 * draws the last 200 with values); a delta carries every changed row whole.
 */
export const FULL_CURVES = 300;

export class LiveState {
  epoch = randomUUID().slice(0, 8);
  seq = 0;
  warning: string | null = null;
  error: string | null = null;
  private readonly exps = new Map<number, ExpState>();
  private order: number[] = [];
  private generatedAt = new Date().toISOString();
  private full: { key: string; body: string } | null = null;

  constructor(private readonly meta: { storage: string; costPerHour: number | null }) {}

  get hasData(): boolean {
    return this.seq > 0;
  }

  apply(m: Extract<ModelMsg, { type: 'update' }>, forceReset = false): void {
    if (m.changes?.reset || forceReset) {
      this.epoch = randomUUID().slice(0, 8);
      this.exps.clear();
      this.seq = 0;
    }
    if (m.changes) this.order = m.changes.order;
    for (const s of m.summaries) {
      const e = this.exps.get(s.id);
      if (e) (e.summary = s), (e.summarySeq = ++this.seq);
      else this.exps.set(s.id, { summary: s, summarySeq: ++this.seq, rows: new Map() });
    }
    for (const { experimentId, rows } of m.changes?.trials ?? []) {
      const e = this.exps.get(experimentId);
      if (!e) continue; // the model always summarises an experiment before its first rows
      // Serialised now, a row at a time, so a full answer is only a join however many rows there are.
      for (const row of rows) e.rows.set(row.id, { row, seq: ++this.seq, json: JSON.stringify(row), lite: JSON.stringify({ ...row, intermediate: [] }) });
    }
    this.full = null;
    this.warning = null;
    this.generatedAt = new Date().toISOString();
  }

  /** Changes after `cursor` (everything when it is absent or from another epoch), as JSON; null when there are none. */
  deltaJson(cursor: string | undefined): string | null {
    const [epoch, s] = (cursor ?? '').split('.');
    const reset = epoch !== this.epoch || !/^\d+$/.test(s ?? '');
    const from = reset ? 0 : Number(s);
    if (!reset && from >= this.seq) return null;
    const key = `${this.epoch}.${this.seq}`;
    if (reset && this.full?.key === key) return this.full.body;
    const experiments: string[] = [];
    let totalTrials = 0;
    for (const id of this.order) {
      const e = this.exps.get(id);
      if (!e) continue;
      totalTrials += e.rows.size;
      const rows = [...e.rows.values()].filter((r) => r.seq > from).sort((a, b) => a.row.number - b.row.number);
      const summaryChanged = e.summarySeq > from;
      if (!reset && !summaryChanged && rows.length === 0) continue;
      const curvesFrom = reset ? rows.length - FULL_CURVES : 0;
      const trials = rows.map((r, i) => (i >= curvesFrom ? (r.json ??= JSON.stringify(r.row)) : (r.lite ??= JSON.stringify({ ...r.row, intermediate: [] }))));
      const head = JSON.stringify(summaryChanged ? e.summary : { id });
      experiments.push(`${head.slice(0, -1)},"trials":[${trials.join(',')}]}`);
    }
    const meta: Omit<LiveDelta, 'experiments'> = {
      cursor: key,
      reset,
      storage: this.meta.storage,
      generatedAt: this.generatedAt,
      costPerHour: this.meta.costPerHour,
      totalTrials,
      order: this.order.filter((id) => this.exps.has(id)),
      warning: this.warning,
    };
    const body = `${JSON.stringify(meta).slice(0, -1)},"experiments":[${experiments.join(',')}]}`;
    if (reset) this.full = { key, body };
    return body;
  }
}

/** Runs the model process for a storage, restarting it if it dies, and feeds a LiveState. */
export class LiveSource {
  readonly state: LiveState;
  private child: ChildProcess | null = null;
  private closing = false;
  private restarted = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly cfg: ModelConfig & { storage: string }) {
    this.state = new LiveState({ storage: cfg.storage, costPerHour: cfg.costPerHour ?? null });
    this.spawn();
  }

  private spawn(): void {
    const { file, execArgv } = childEntry(import.meta.url, 'model-child');
    const { storage: _storage, ...cfg } = this.cfg;
    const child = fork(file, [JSON.stringify(cfg)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.child = child;
    child.on('message', (m: ModelMsg) => {
      if (m.type === 'update') {
        this.state.apply(m, this.restarted);
        this.restarted = false;
      } else if (m.type === 'warning') this.state.warning = m.message;
      else this.state.error = m.message;
      for (const w of this.waiters.splice(0)) w();
    });
    child.on('exit', () => {
      if (this.closing || this.state.error) return;
      this.restarted = true;
      setTimeout(() => !this.closing && this.spawn(), 500).unref();
    });
  }

  /** Resolves at the next message from the model (or after `ms`). */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => (clearTimeout(t), resolve()));
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  }
}

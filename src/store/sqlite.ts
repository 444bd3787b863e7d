/**
 * SQLite store (better-sqlite3 12.x, WAL). The embedded default: every method runs in its own
 * transaction and is committed (synchronous=FULL) before it returns, so a process killed at any point
 * loses nothing that was reported. Several processes may share one file (busy timeout, IMMEDIATE
 * transactions for read-modify-write).
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { ParamSpec, Params } from '../space/params.js';
import type {
  ExperimentConfig,
  ExperimentRecord,
  NewTrial,
  Store,
  TrialFinish,
  TrialRecord,
  TrialState,
} from './types.js';
import { emptyCost } from './types.js';
import { StorageError, TrialNumberTaken } from './errors.js';

export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS experiments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  config TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  number INTEGER NOT NULL,
  state TEXT NOT NULL,
  params TEXT NOT NULL,
  distributions TEXT NOT NULL,
  "values" TEXT,
  cost TEXT NOT NULL,
  attrs TEXT NOT NULL,
  error TEXT,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  heartbeat_at INTEGER,
  owner TEXT,
  UNIQUE (experiment_id, number)
);
CREATE INDEX IF NOT EXISTS trials_by_state ON trials (experiment_id, state);
CREATE TABLE IF NOT EXISTS intermediate (
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  step REAL NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (trial_id, step)
);
CREATE TABLE IF NOT EXISTS strategy_state (
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
);
`;

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

function toRecord(r: TrialRow, intermediate: { step: number; value: number }[]): TrialRecord {
  const record: TrialRecord = {
    id: r.id,
    experimentId: r.experiment_id,
    number: r.number,
    state: r.state,
    params: JSON.parse(r.params),
    distributions: {},
    values: r.values === null ? null : JSON.parse(r.values),
    intermediate,
    cost: JSON.parse(r.cost),
    attrs: JSON.parse(r.attrs),
    error: r.error,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    heartbeatAt: r.heartbeat_at,
    owner: r.owner,
  };
  // Parsed on first use: the specs are most of a row's bytes and most readers (tables, reports) never
  // look at them; 12,000 trials of a cell space read in half the time.
  let distributions: TrialRecord['distributions'] | undefined;
  Object.defineProperty(record, 'distributions', {
    enumerable: true,
    configurable: true,
    get: () => (distributions ??= JSON.parse(r.distributions)),
    set: (v: TrialRecord['distributions']) => void (distributions = v),
  });
  return record;
}

/** NaN and infinities are not JSON: stored as null so a diverged trial never corrupts the file. */
function jsonValues(values: number[] | null): string | null {
  return values === null ? null : JSON.stringify(values.map((v) => (Number.isFinite(v) ? v : null)));
}

const readStatements = new WeakMap<Database.Database, { exps: Database.Statement; trials: Database.Statement; inter: Database.Statement }>();

function statements(db: Database.Database) {
  let st = readStatements.get(db);
  if (!st) {
    st = {
      exps: db.prepare('SELECT * FROM experiments ORDER BY id'),
      trials: db.prepare('SELECT * FROM trials WHERE experiment_id = ? ORDER BY number'),
      inter: db.prepare(
        `SELECT i.trial_id AS trial_id, i.step AS step, i.value AS value FROM intermediate i
         JOIN trials t ON t.id = i.trial_id WHERE t.experiment_id = ? ORDER BY i.trial_id, i.step`,
      ),
    };
    readStatements.set(db, st);
  }
  return st;
}

/** Every experiment of a tsnas SQLite file (shared by the store and the dashboard's read-only reader). */
export function readExperiments(db: Database.Database): ExperimentRecord[] {
  return (statements(db).exps.all() as { id: number; name: string; config: string; created_at: number }[]).map((r) => ({
    id: r.id,
    name: r.name,
    config: JSON.parse(r.config),
    createdAt: r.created_at,
  }));
}

/** An experiment's trials with their intermediate values, read in one consistent snapshot. */
export function readTrials(db: Database.Database, experimentId: number, states?: readonly TrialState[]): TrialRecord[] {
  const st = statements(db);
  return db.transaction(() => {
    const rows = st.trials.all(experimentId) as TrialRow[];
    const inter = new Map<number, { step: number; value: number }[]>();
    for (const iv of st.inter.all(experimentId) as { trial_id: number; step: number; value: number }[]) {
      let list = inter.get(iv.trial_id);
      if (!list) inter.set(iv.trial_id, (list = []));
      list.push({ step: iv.step, value: iv.value });
    }
    const out: TrialRecord[] = [];
    for (const r of rows) {
      if (states && !states.includes(r.state)) continue;
      out.push(toRecord(r, inter.get(r.id) ?? []));
    }
    return out;
  })();
}

export class SqliteStore implements Store {
  readonly file: string;
  private db: Database.Database;
  private stmts: Record<string, Database.Statement>;

  constructor(file: string) {
    this.file = file;
    const label = `storage sqlite:${file}`;
    if (file !== ':memory:') {
      const dir = path.dirname(path.resolve(file));
      if (!fs.existsSync(dir)) throw new StorageError(`${label}: directory ${dir} does not exist; create it or choose another path`);
      if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
        throw new StorageError(`${label}: is a directory; give a file path such as sqlite:${path.join(file, 'runs.db')}`);
      }
    }
    try {
      this.db = new Database(file, { timeout: 10_000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('foreign_keys = ON');
      this.migrate();
    } catch (e) {
      if (e instanceof StorageError) throw e;
      const msg = (e as Error).message;
      if (/not a database|malformed|file is encrypted/i.test(msg)) {
        throw new StorageError(`${label}: the file is not a tsnas SQLite database (${msg}); choose another path`);
      }
      throw new StorageError(`${label}: cannot open (${msg})`);
    }
    const db = this.db;
    this.stmts = {
      expByName: db.prepare('SELECT * FROM experiments WHERE name = ?'),
      expInsert: db.prepare('INSERT INTO experiments (name, config, created_at) VALUES (?, ?, ?)'),
      nextNumber: db.prepare('SELECT COALESCE(MAX(number) + 1, 0) AS n FROM trials WHERE experiment_id = ?'),
      trialInsert: db.prepare(
        `INSERT INTO trials (experiment_id, number, state, params, distributions, "values", cost, attrs, error,
           created_at, finished_at, heartbeat_at, owner)
         VALUES (@experiment_id, @number, @state, @params, @distributions, NULL, @cost, @attrs, NULL,
           @created_at, NULL, @heartbeat_at, @owner)`,
      ),
      trialById: db.prepare('SELECT * FROM trials WHERE id = ?'),
      interByTrial: db.prepare('SELECT step, value FROM intermediate WHERE trial_id = ? ORDER BY step'),
      interUpsert: db.prepare(
        'INSERT INTO intermediate (trial_id, step, value) VALUES (?, ?, ?) ON CONFLICT(trial_id, step) DO UPDATE SET value = excluded.value',
      ),
      claim: db.prepare(`UPDATE trials SET state = 'RUNNING', owner = ?, heartbeat_at = ? WHERE id = ? AND state = 'WAITING'`),
      heartbeat: db.prepare('UPDATE trials SET heartbeat_at = ? WHERE id = ?'),
      setParams: db.prepare('UPDATE trials SET params = ?, distributions = ? WHERE id = ?'),
      setAttrs: db.prepare('UPDATE trials SET attrs = ? WHERE id = ?'),
      finish: db.prepare(
        `UPDATE trials SET state = ?, "values" = ?, cost = ?, error = ?, attrs = ?, finished_at = ?
         WHERE id = ? AND state = 'RUNNING'`,
      ),
      stateGet: db.prepare('SELECT value FROM strategy_state WHERE experiment_id = ? AND key = ?'),
      stateSet: db.prepare(
        'INSERT INTO strategy_state (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT(experiment_id, key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  private migrate(): void {
    this.db.exec(SCHEMA);
    const row = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    if (!row) {
      this.db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
    } else if (row.version > SCHEMA_VERSION) {
      throw new StorageError(
        `storage sqlite:${this.file}: written by a newer tsnas (schema ${row.version} > ${SCHEMA_VERSION}); upgrade tsnas`,
      );
    }
  }

  private expRow(r: { id: number; name: string; config: string; created_at: number }): ExperimentRecord {
    return { id: r.id, name: r.name, config: JSON.parse(r.config), createdAt: r.created_at };
  }

  openExperiment(name: string, config: ExperimentConfig): ExperimentRecord {
    return this.db
      .transaction(() => {
        const found = this.getExperiment(name);
        if (found) return found;
        const info = this.stmts.expInsert!.run(name, JSON.stringify(config), Date.now());
        return { id: Number(info.lastInsertRowid), name, config: structuredClone(config), createdAt: Date.now() };
      })
      .immediate();
  }

  getExperiment(name: string): ExperimentRecord | null {
    const r = this.stmts.expByName!.get(name) as Parameters<SqliteStore['expRow']>[0] | undefined;
    return r ? this.expRow(r) : null;
  }

  listExperiments(): ExperimentRecord[] {
    return readExperiments(this.db);
  }

  createTrial(experimentId: number, init: NewTrial): TrialRecord {
    return this.db
      .transaction(() => {
        const { n } = this.stmts.nextNumber!.get(experimentId) as { n: number };
        if (init.expectNumber !== undefined && init.expectNumber !== n) throw new TrialNumberTaken(init.expectNumber, n);
        const now = Date.now();
        const info = this.stmts.trialInsert!.run({
          experiment_id: experimentId,
          number: n,
          state: init.state,
          params: JSON.stringify(init.params),
          distributions: JSON.stringify(init.distributions),
          cost: JSON.stringify(emptyCost()),
          attrs: JSON.stringify(init.attrs ?? {}),
          created_at: now,
          heartbeat_at: init.state === 'RUNNING' ? now : null,
          owner: init.owner,
        });
        return this.getTrial(Number(info.lastInsertRowid))!;
      })
      .immediate();
  }

  claimTrial(trialId: number, owner: string): boolean {
    return this.stmts.claim!.run(owner, Date.now(), trialId).changes === 1;
  }

  private row(trialId: number): TrialRow {
    const r = this.stmts.trialById!.get(trialId) as TrialRow | undefined;
    if (!r) throw new Error(`no trial with id ${trialId}`);
    return r;
  }

  setParams(trialId: number, values: Params, specs: Record<string, ParamSpec>): void {
    this.db
      .transaction(() => {
        const r = this.row(trialId);
        const params = { ...JSON.parse(r.params), ...values };
        const dists = { ...JSON.parse(r.distributions), ...specs };
        this.stmts.setParams!.run(JSON.stringify(params), JSON.stringify(dists), trialId);
      })
      .immediate();
  }

  addIntermediate(trialId: number, step: number, value: number): void {
    this.db
      .transaction(() => {
        this.stmts.interUpsert!.run(trialId, step, Number.isFinite(value) ? value : NaN);
        this.stmts.heartbeat!.run(Date.now(), trialId);
      })
      .immediate();
  }

  setAttrs(trialId: number, attrs: Record<string, unknown>): void {
    this.db
      .transaction(() => {
        const merged = { ...JSON.parse(this.row(trialId).attrs), ...attrs };
        this.stmts.setAttrs!.run(JSON.stringify(merged), trialId);
      })
      .immediate();
  }

  heartbeat(trialId: number): void {
    this.stmts.heartbeat!.run(Date.now(), trialId);
  }

  finishTrial(trialId: number, finish: TrialFinish): boolean {
    return this.db
      .transaction(() => {
        const r = this.row(trialId);
        if (r.state !== 'RUNNING') return false;
        const attrs = finish.attrs ? { ...JSON.parse(r.attrs), ...finish.attrs } : JSON.parse(r.attrs);
        return (
          this.stmts.finish!.run(
            finish.state,
            jsonValues(finish.values),
            JSON.stringify(finish.cost),
            finish.error ?? null,
            JSON.stringify(attrs),
            Date.now(),
            trialId,
          ).changes === 1
        );
      })
      .immediate();
  }

  getTrial(trialId: number): TrialRecord | null {
    const r = this.stmts.trialById!.get(trialId) as TrialRow | undefined;
    if (!r) return null;
    return toRecord(r, this.stmts.interByTrial!.all(trialId) as { step: number; value: number }[]);
  }

  getTrials(experimentId: number, states?: readonly TrialState[]): readonly TrialRecord[] {
    return readTrials(this.db, experimentId, states);
  }

  getStrategyState(experimentId: number, key: string): unknown {
    const r = this.stmts.stateGet!.get(experimentId, key) as { value: string } | undefined;
    return r ? JSON.parse(r.value) : undefined;
  }

  setStrategyState(experimentId: number, key: string, value: unknown): void {
    this.stmts.stateSet!.run(experimentId, key, JSON.stringify(value));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

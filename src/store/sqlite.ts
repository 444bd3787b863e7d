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
  SystemAttrs,
  TrialChanges,
  TrialFinish,
  TrialRecord,
  TrialState,
} from '../core/store.js';
import { emptyCost, splitLegacyAttrs } from '../core/store.js';
import { StorageError, TrialNumberTaken } from '../core/errors.js';
import { describeSqliteError, experimentRow, foreignTables, readExperiments, readTrials, readTrialsSince, SCHEMA_VERSION, toRecord, type TrialRow } from './sqlite-read.js';
import { toStored, valuesToJson } from '../core/values.js';

export { SCHEMA_VERSION, readExperiments, readTrials };

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
  system TEXT NOT NULL DEFAULT '{}', -- SystemAttrs (types.ts); schema 2
  seq INTEGER NOT NULL DEFAULT 0, -- change counter: the file's highest when the row last changed; schema 2
  UNIQUE (experiment_id, number)
);
CREATE INDEX IF NOT EXISTS trials_by_state ON trials (experiment_id, state);
CREATE TABLE IF NOT EXISTS intermediate (
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  step REAL NOT NULL,
  value REAL NOT NULL, -- a non-finite value is the text 'NaN', 'Infinity' or '-Infinity' (values.ts)
  PRIMARY KEY (trial_id, step)
);
CREATE TABLE IF NOT EXISTS strategy_state (
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
);
`;

/** The next change counter (used inside IMMEDIATE transactions, so writers take distinct, increasing values). */
const NEXT_SEQ = '(SELECT COALESCE(MAX(seq), 0) + 1 FROM trials)';

/** How long opening a storage retries the set-up on an immediate SQLITE_BUSY (see setUp). */
const SETUP_RETRY_MS = 20_000;

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
      // The busy timeout is set by the constructor, before anything below can meet another process's lock.
      this.db = new Database(file, { timeout: 10_000 });
    } catch (e) {
      throw describeSqliteError(e, label);
    }
    try {
      this.refuseForeign(); // before the first write: someone else's database is left as it was
      this.setUp();
    } catch (e) {
      this.db.close();
      if (e instanceof StorageError) throw e;
      throw describeSqliteError(e, label);
    }
    const db = this.db;
    this.stmts = {
      expByName: db.prepare('SELECT * FROM experiments WHERE name = ?'),
      expInsert: db.prepare('INSERT INTO experiments (name, config, created_at) VALUES (?, ?, ?)'),
      nextNumber: db.prepare('SELECT COALESCE(MAX(number) + 1, 0) AS n FROM trials WHERE experiment_id = ?'),
      trialInsert: db.prepare(
        `INSERT INTO trials (experiment_id, number, state, params, distributions, "values", cost, attrs, error,
           created_at, finished_at, heartbeat_at, owner, system, seq)
         VALUES (@experiment_id, @number, @state, @params, @distributions, NULL, @cost, @attrs, NULL,
           @created_at, NULL, @heartbeat_at, @owner, @system, (SELECT COALESCE(MAX(seq), 0) + 1 FROM trials))`,
      ),
      trialById: db.prepare('SELECT * FROM trials WHERE id = ?'),
      interByTrial: db.prepare('SELECT step, value FROM intermediate WHERE trial_id = ? ORDER BY step'),
      interUpsert: db.prepare(
        'INSERT INTO intermediate (trial_id, step, value) VALUES (?, ?, ?) ON CONFLICT(trial_id, step) DO UPDATE SET value = excluded.value',
      ),
      claim: db.prepare(`UPDATE trials SET state = 'RUNNING', owner = ?, heartbeat_at = ?, system = ?, seq = ${NEXT_SEQ} WHERE id = ? AND state = 'WAITING'`),
      heartbeat: db.prepare('UPDATE trials SET heartbeat_at = ? WHERE id = ?'),
      touch: db.prepare(`UPDATE trials SET heartbeat_at = ?, seq = ${NEXT_SEQ} WHERE id = ?`),
      setParams: db.prepare(`UPDATE trials SET params = ?, distributions = ?, seq = ${NEXT_SEQ} WHERE id = ?`),
      setAttrs: db.prepare(`UPDATE trials SET attrs = ?, system = ?, seq = ${NEXT_SEQ} WHERE id = ?`),
      finish: db.prepare(
        `UPDATE trials SET state = ?, "values" = ?, cost = ?, error = ?, attrs = ?, system = ?, finished_at = ?, seq = ${NEXT_SEQ}
         WHERE id = ? AND state = 'RUNNING'`,
      ),
      stateGet: db.prepare('SELECT value FROM strategy_state WHERE experiment_id = ? AND key = ?'),
      stateSet: db.prepare(
        'INSERT INTO strategy_state (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT(experiment_id, key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  private refuseForeign(): void {
    const foreign = foreignTables(this.db);
    if (foreign.length > 0) {
      throw new StorageError(
        `storage sqlite:${this.file}: the file holds other tables (${foreign.slice(0, 5).join(', ')}), not a tsnas storage; choose another path`,
      );
    }
  }

  /**
   * WAL mode, then the schema. Several processes creating one new file at the same moment can meet
   * an SQLITE_BUSY that SQLite returns at once, without the busy handler (the switch from rollback
   * to WAL journal and the first WAL recovery take locks that way): those are retried with a backoff
   * for up to SETUP_RETRY_MS (issue 16: 5 of 160 opens failed under load without this).
   */
  private setUp(): void {
    const deadline = Date.now() + SETUP_RETRY_MS;
    for (let wait = 5; ; wait = Math.min(200, wait * 2)) {
      try {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = FULL');
        this.db.pragma('foreign_keys = ON');
        this.migrate();
        return;
      } catch (e) {
        const code = (e as { code?: string }).code ?? '';
        if (!/^SQLITE_(BUSY|LOCKED)/.test(code) || Date.now() + wait > deadline) throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait * (0.5 + Math.random()));
      }
    }
  }

  /** Creates the schema once: any number of processes may open a new file at the same moment. */
  private migrate(): void {
    this.db
      .transaction(() => {
        this.refuseForeign();
        this.db.exec(SCHEMA);
        const row = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
        if (!row) {
          this.db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
        } else if (row.version > SCHEMA_VERSION) {
          throw new StorageError(
            `storage sqlite:${this.file}: written by a newer tsnas (schema ${row.version} > ${SCHEMA_VERSION}); upgrade tsnas`,
          );
        } else if (row.version < 2) {
          this.migrateTo2();
        }
        this.db.exec('CREATE INDEX IF NOT EXISTS trials_by_seq ON trials (seq); CREATE INDEX IF NOT EXISTS trials_changed ON trials (experiment_id, seq)');
      })
      .immediate();
  }

  /**
   * Schema 1 -> 2: the `system` column (system keys move out of `attrs`) and the `seq` change counter
   * (existing rows get their id). Runs inside migrate's IMMEDIATE transaction.
   */
  private migrateTo2(): void {
    const cols = new Set((this.db.prepare('PRAGMA table_info(trials)').all() as { name: string }[]).map((c) => c.name));
    if (!cols.has('system')) this.db.exec(`ALTER TABLE trials ADD COLUMN system TEXT NOT NULL DEFAULT '{}'`);
    if (!cols.has('seq')) this.db.exec('ALTER TABLE trials ADD COLUMN seq INTEGER NOT NULL DEFAULT 0');
    const update = this.db.prepare('UPDATE trials SET attrs = ?, system = ?, seq = id WHERE id = ?');
    for (const r of this.db.prepare('SELECT id, attrs, state, error FROM trials').all() as { id: number; attrs: string; state: TrialState; error: string | null }[]) {
      let attrs: Record<string, unknown>;
      try {
        attrs = JSON.parse(r.attrs) as Record<string, unknown>;
      } catch {
        update.run(r.attrs, '{}', r.id); // a damaged row stays as it is; reading it names it
        continue;
      }
      const split = splitLegacyAttrs(attrs, r);
      update.run(JSON.stringify(split.attrs), JSON.stringify(split.system), r.id);
    }
    this.db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION);
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
    const r = this.stmts.expByName!.get(name) as Parameters<typeof experimentRow>[1] | undefined;
    return r ? experimentRow(this.file, r) : null;
  }

  listExperiments(): ExperimentRecord[] {
    return readExperiments(this.db, this.file);
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
          system: JSON.stringify(init.system ?? {}),
          created_at: now,
          heartbeat_at: init.state === 'RUNNING' ? now : null,
          owner: init.owner,
        });
        return this.getTrial(Number(info.lastInsertRowid))!;
      })
      .immediate();
  }

  claimTrial(trialId: number, owner: string, system?: SystemAttrs): boolean {
    return this.db
      .transaction(() => {
        const merged = { ...JSON.parse(this.row(trialId).system ?? '{}'), ...system };
        return this.stmts.claim!.run(owner, Date.now(), JSON.stringify(merged), trialId).changes === 1;
      })
      .immediate();
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
        this.stmts.interUpsert!.run(trialId, step, toStored(value));
        this.stmts.touch!.run(Date.now(), trialId);
      })
      .immediate();
  }

  setAttrs(trialId: number, attrs: Record<string, unknown>, system?: SystemAttrs): void {
    this.db
      .transaction(() => {
        const r = this.row(trialId);
        const merged = { ...JSON.parse(r.attrs), ...attrs };
        const sys = { ...JSON.parse(r.system ?? '{}'), ...system };
        this.stmts.setAttrs!.run(JSON.stringify(merged), JSON.stringify(sys), trialId);
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
        const system = finish.system ? { ...JSON.parse(r.system ?? '{}'), ...finish.system } : JSON.parse(r.system ?? '{}');
        return (
          this.stmts.finish!.run(
            finish.state,
            valuesToJson(finish.values),
            JSON.stringify(finish.cost),
            finish.error ?? null,
            JSON.stringify(attrs),
            JSON.stringify(system),
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
    return toRecord(this.file, r, this.stmts.interByTrial!.all(trialId) as { step: number; value: number }[]);
  }

  getTrials(experimentId: number, states?: readonly TrialState[]): readonly TrialRecord[] {
    return readTrials(this.db, experimentId, states, this.file);
  }

  getTrialsSince(experimentId: number, since: number): TrialChanges {
    return readTrialsSince(this.db, experimentId, since, this.file);
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

/**
 * Reading a tsnas SQLite file, and the one read-only way to open it (`tsnas trials`, `best`, `report`,
 * the dashboard). A reader never writes: no WAL switch, no tables created, no migration. A file that
 * cannot be opened read-only in place (a WAL file on a read-only mount or in another user's folder,
 * where SQLite cannot create the shared-memory file) is read from a private snapshot copy instead.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { splitLegacyAttrs, type ExperimentRecord, type TrialChanges, type TrialRecord, type TrialState } from '../core/store.js';
import { StorageError } from '../core/errors.js';
import { fromStored, valuesFromJson } from '../core/values.js';

/** 2: trials.system (system attrs apart from user attrs) and trials.seq (change counter). Files of 1 are migrated on a writable open and read as they are. */
export const SCHEMA_VERSION = 2;
export const TSNAS_TABLES = ['schema_version', 'experiments', 'trials', 'intermediate', 'strategy_state'] as const;

export interface TrialRow {
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
  /** Absent in schema 1 files (system keys are then in attrs). */
  system?: string;
  seq?: number;
}

type Inter = { step: number; value: number | string };

/** JSON of one column of a row, or a StorageError naming the row and the column. */
function parse(file: string, what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new StorageError(`storage sqlite:${file}: ${what} is not valid JSON (the file was edited or damaged); repair or delete that row`);
  }
}

export function toRecord(file: string, r: TrialRow, intermediate: Inter[]): TrialRecord {
  const col = (name: string, text: string) => parse(file, `trial #${r.number} (id ${r.id}) column ${name}`, text);
  let values: number[] | null;
  try {
    values = valuesFromJson(r.values);
  } catch {
    values = col('values', r.values!) as never;
  }
  const record: TrialRecord = {
    id: r.id,
    experimentId: r.experiment_id,
    number: r.number,
    state: r.state,
    params: col('params', r.params) as TrialRecord['params'],
    distributions: {},
    values,
    intermediate: intermediate.map((iv) => ({ step: iv.step, value: fromStored(iv.value) })),
    cost: col('cost', r.cost) as TrialRecord['cost'],
    attrs: col('attrs', r.attrs) as TrialRecord['attrs'],
    system: {},
    error: r.error,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    heartbeatAt: r.heartbeat_at,
    owner: r.owner,
  };
  if (r.system === undefined) Object.assign(record, splitLegacyAttrs(record.attrs, r));
  else record.system = col('system', r.system) as TrialRecord['system'];
  // Parsed on first use: the specs are most of a row's bytes and most readers (tables, reports) never
  // look at them; 12,000 trials of a cell space read in half the time.
  let distributions: TrialRecord['distributions'] | undefined;
  Object.defineProperty(record, 'distributions', {
    enumerable: true,
    configurable: true,
    get: () => (distributions ??= col('distributions', r.distributions) as TrialRecord['distributions']),
    set: (v: TrialRecord['distributions']) => void (distributions = v),
  });
  return record;
}

/** The tables of a file that are not tsnas's, when it has no schema_version (someone else's database). */
export function foreignTables(db: Database.Database): string[] {
  const names = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[]).map(
    (r) => r.name,
  );
  return names.includes('schema_version') ? [] : names;
}

interface ReadStatements {
  exps: Database.Statement;
  trials: Database.Statement;
  inter: Database.Statement;
  since?: { max: Database.Statement; trials: Database.Statement; inter: Database.Statement };
}
const readStatements = new WeakMap<Database.Database, ReadStatements>();

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

export function experimentRow(file: string, r: { id: number; name: string; config: string; created_at: number }): ExperimentRecord {
  return { id: r.id, name: r.name, config: parse(file, `experiment "${r.name}" config`, r.config) as ExperimentRecord['config'], createdAt: r.created_at };
}

/** Every experiment of a tsnas SQLite file. */
export function readExperiments(db: Database.Database, file = db.name): ExperimentRecord[] {
  return (statements(db).exps.all() as { id: number; name: string; config: string; created_at: number }[]).map((r) => experimentRow(file, r));
}

/** An experiment's trials with their intermediate values, read in one consistent snapshot. */
export function readTrials(db: Database.Database, experimentId: number, states?: readonly TrialState[], file = db.name): TrialRecord[] {
  const st = statements(db);
  return db.transaction(() => {
    const rows = st.trials.all(experimentId) as TrialRow[];
    const inter = new Map<number, Inter[]>();
    for (const iv of st.inter.all(experimentId) as (Inter & { trial_id: number })[]) {
      let list = inter.get(iv.trial_id);
      if (!list) inter.set(iv.trial_id, (list = []));
      list.push(iv);
    }
    const out: TrialRecord[] = [];
    for (const r of rows) {
      if (states && !states.includes(r.state)) continue;
      out.push(toRecord(file, r, inter.get(r.id) ?? []));
    }
    return out;
  })();
}

/** Trials changed after change counter `since` (schema 2), with their intermediate values, in one snapshot. */
export function readTrialsSince(db: Database.Database, experimentId: number, since: number, file = db.name): TrialChanges {
  const st = statements(db);
  st.since ??= {
    max: db.prepare('SELECT MAX(seq) AS seq FROM trials'),
    trials: db.prepare('SELECT * FROM trials WHERE experiment_id = ? AND seq > ? ORDER BY seq'),
    inter: db.prepare(
      `SELECT i.trial_id AS trial_id, i.step AS step, i.value AS value FROM intermediate i
       WHERE i.trial_id IN (SELECT id FROM trials WHERE experiment_id = ? AND seq > ?) ORDER BY i.trial_id, i.step`,
    ),
  };
  const q = st.since;
  // Nothing newer in the whole file (one indexed lookup, no transaction): the usual case between writes.
  if (since > 0 && ((q.max.get() as { seq: number | null }).seq ?? 0) <= since) return { trials: [], seq: since };
  return db.transaction(() => {
    const rows = q.trials.all(experimentId, since) as TrialRow[];
    if (rows.length === 0) return { trials: [], seq: since };
    const inter = new Map<number, Inter[]>();
    for (const iv of q.inter.all(experimentId, since) as (Inter & { trial_id: number })[]) {
      let list = inter.get(iv.trial_id);
      if (!list) inter.set(iv.trial_id, (list = []));
      list.push(iv);
    }
    return { trials: rows.map((r) => toRecord(file, r, inter.get(r.id) ?? [])), seq: rows[rows.length - 1]!.seq! };
  })();
}

/** SQLITE_BUSY / SQLITE_LOCKED and a schema not yet created by the writer: try again later. */
export function isTransient(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  const msg = (e as Error).message ?? '';
  return /^SQLITE_(BUSY|LOCKED)/.test(code) || /no such table/i.test(msg);
}

/**
 * A read-only view of a tsnas storage file. Refuses a missing file, a file that is not SQLite and a
 * SQLite file without tsnas's tables, each with one line naming the file and the fix.
 */
export class SqliteReader {
  protected db: Database.Database;
  private snapshotDir: string | null = null;
  private ino: number;
  private reopened = 0;
  /** Whether the file is read from a snapshot copy (it could not be opened read-only in place). */
  get snapshot(): boolean {
    return this.snapshotDir !== null;
  }

  constructor(
    readonly file: string,
    private readonly opts: { busyMs?: number; /** a file without tables yet is not refused (the dashboard waits for it) */ allowEmpty?: boolean } = {},
  ) {
    const label = `storage sqlite:${file}`;
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new StorageError(`--storage sqlite:${file}: no such file; run tsnas search with this storage first`);
      throw new StorageError(`${label}: cannot read it (${(e as NodeJS.ErrnoException).code}); check its permissions`);
    }
    if (st.isDirectory()) throw new StorageError(`${label}: is a directory; give the .db file inside it`);
    this.ino = st.ino;
    this.db = this.open();
  }

  private open(): Database.Database {
    const label = `storage sqlite:${this.file}`;
    const timeout = this.opts.busyMs ?? 5_000;
    let db: Database.Database | null = null;
    try {
      db = new Database(this.file, { readonly: true, fileMustExist: true, timeout });
      try {
        this.check(db);
      } catch (e) {
        if (!(this.opts.allowEmpty && isTransient(e))) throw e; // the dashboard reads again on the next poll
      }
      return db;
    } catch (e) {
      db?.close();
      if (e instanceof StorageError) throw e;
      const code = (e as { code?: string }).code ?? '';
      if (/^SQLITE_(READONLY|CANTOPEN)/.test(code)) return this.openSnapshot();
      throw describeSqliteError(e, label);
    }
  }

  /** A copy of the file (and its WAL) in a private temporary folder, opened read-only. */
  private openSnapshot(): Database.Database {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-ro-'));
    const copy = path.join(dir, path.basename(this.file));
    try {
      fs.copyFileSync(this.file, copy);
      if (fs.existsSync(`${this.file}-wal`)) fs.copyFileSync(`${this.file}-wal`, `${copy}-wal`);
      const db = new Database(copy, { readonly: true, fileMustExist: true });
      this.check(db);
      this.snapshotDir = dir;
      return db;
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      if (e instanceof StorageError) throw e;
      throw describeSqliteError(e, `storage sqlite:${this.file}`);
    }
  }

  private check(db: Database.Database): void {
    const foreign = foreignTables(db);
    const names = new Set((db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name));
    if (names.size === 0 && this.opts.allowEmpty) return;
    if (foreign.length > 0 || !TSNAS_TABLES.every((t) => names.has(t))) {
      throw new StorageError(
        `storage sqlite:${this.file}: not a tsnas storage (${foreign.length > 0 ? `it holds other tables: ${foreign.slice(0, 5).join(', ')}` : 'no tsnas tables'}); give the file tsnas search wrote`,
      );
    }
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    if (row && row.version > SCHEMA_VERSION) {
      throw new StorageError(`storage sqlite:${this.file}: written by a newer tsnas (schema ${row.version} > ${SCHEMA_VERSION}); upgrade tsnas`);
    }
  }

  /**
   * Changes whenever another connection committed to the file, or the file was replaced (deleted and
   * created again): then the reader reopens it, so it never serves a deleted file's data.
   */
  dataVersion(): number {
    let ino: number | null = null;
    try {
      ino = fs.statSync(this.file).ino;
    } catch {
      /* deleted: keep the last data until it comes back */
    }
    if (ino !== null && ino !== this.ino && !this.snapshot) {
      const db = this.open();
      this.db.close();
      this.db = db;
      this.ino = ino;
      this.reopened++;
    }
    return (this.db.pragma('data_version', { simple: true }) as number) + this.reopened * 1e9;
  }
  listExperiments(): ExperimentRecord[] {
    return readExperiments(this.db, this.file);
  }

  getExperiment(name: string): ExperimentRecord | null {
    return this.listExperiments().find((e) => e.name === name) ?? null;
  }

  getTrials(experimentId: number, states?: readonly TrialState[]): readonly TrialRecord[] {
    return readTrials(this.db, experimentId, states, this.file);
  }

  close(): void {
    if (this.db.open) this.db.close();
    if (this.snapshotDir) fs.rmSync(this.snapshotDir, { recursive: true, force: true });
    this.snapshotDir = null;
  }
}

/** A SQLite failure as one line naming the storage and what to do. */
export function describeSqliteError(e: unknown, label: string): Error {
  const msg = (e as Error).message;
  const code = (e as { code?: string }).code ?? '';
  if (code === 'SQLITE_NOTADB' || /not a database|file is encrypted/i.test(msg)) {
    return new StorageError(`${label}: the file is not a tsnas SQLite database (${msg}); choose another path`);
  }
  if (code.startsWith('SQLITE_CORRUPT') || /malformed/i.test(msg)) {
    return new StorageError(`${label}: the file is damaged (${msg}); restore it from a copy or start a new storage`);
  }
  if (code === 'SQLITE_FULL' || /ENOSPC|disk is full|database or disk is full/i.test(msg)) {
    return new StorageError(`${label}: the disk is full; free some space and run the command again (nothing finished was lost)`);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StorageError(`${label}: the file or its folder is read-only; a search needs to write it (tsnas trials/best/report only read)`);
  }
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return new StorageError(`${label}: busy (another process holds a lock too long); try again`);
  if (code.startsWith('SQLITE_')) return new StorageError(`${label}: cannot open (${msg})`);
  return e as Error;
}

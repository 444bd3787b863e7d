/**
 * Issue 18 items 10 and 11: one read-only opener for trials/best/report/dashboard. Reading never
 * writes (no WAL switch, no tables, the bytes stay the same); a read-only file in a read-only folder
 * can be inspected; a storage deleted and created again is read afresh (item 17, dashboard).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { SqliteReader } from '../../src/store/sqlite-read.js';
import { ROOT } from '../helpers/cli.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-ro-'));
fs.chmodSync(tmp, 0o755); // the read-only case runs as another user
afterAll(() => {
  spawnSync('chmod', ['-R', 'u+w', tmp]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const config = { directions: ['maximize' as const], strategy: { name: 'random' }, space: null, seed: 0 };

function storage(file: string, names: string[]): void {
  const s = new SqliteStore(file);
  for (const n of names) {
    const e = s.openExperiment(n, config);
    const t = s.createTrial(e.id, { state: 'RUNNING', params: { x: 1 }, distributions: {}, owner: 'h:1' });
    s.finishTrial(t.id, { state: 'COMPLETE', values: [0.25], cost: { wallSeconds: 1, cpuSeconds: 1, simulatedSeconds: 0 } });
  }
  s.close();
}

async function cliIn(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += a.join(' ') + '\n'));
  try {
    const code = await runCli(['node', 'tsnas', ...args], { writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
    return { code, out, err };
  } finally {
    log.mockRestore();
  }
}

describe('read commands never write', () => {
  it('trials, best and report leave a rollback-journal storage byte for byte as it was (no WAL switch)', async () => {
    const file = path.join(tmp, 'rollback.db');
    storage(file, ['exp']);
    const db = new Database(file);
    db.pragma('journal_mode = DELETE');
    db.close();
    const before = fs.readFileSync(file);
    for (const args of [['trials'], ['best'], ['report', '--out', path.join(tmp, 'r.html')]]) {
      const r = await cliIn([...args, '--storage', `sqlite:${file}`]);
      expect(r.code, r.err).toBe(0);
    }
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    check.close();
  });

  it('a foreign SQLite file with its own trials table is refused by every command before any write', async () => {
    const file = path.join(tmp, 'foreign.db');
    const db = new Database(file);
    db.exec(`CREATE TABLE trials (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO trials (note) VALUES ('mine')`);
    db.close();
    const before = fs.readFileSync(file);
    for (const args of [['trials'], ['best'], ['report', '--out', path.join(tmp, 'f.html')], ['search', '--space', 'nb201', '--nb201-dir', tmp, '--trials', '1']]) {
      const r = await cliIn([...args, '--storage', `sqlite:${file}`]);
      expect(r.code).toBe(2);
    }
    const r = await cliIn(['trials', '--storage', `sqlite:${file}`]);
    expect(r.err).toMatch(/not a tsnas storage \(it holds other tables: trials\)/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    const tables = new Database(file, { readonly: true }).prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all();
    expect(tables).toEqual([{ name: 'trials' }]);
  });
});

describe('read-only storages can be inspected', () => {
  it('tsnas trials on a WAL storage in a read-only folder, as a user who cannot write it', () => {
    const dir = path.join(tmp, 'ro');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'runs.db');
    storage(file, ['exp']);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    fs.chmodSync(file, 0o444);
    fs.chmodSync(dir, 0o555);
    // root ignores file modes: run the CLI as nobody then (the folder must be readable to it).
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'trials', '--storage', `sqlite:${file}`], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, HOME: os.tmpdir() },
      ...asNobody,
    });
    expect(r.error, `spawning ${process.execPath} as nobody`).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/experiment "exp"/);
    expect(fs.readdirSync(dir)).toEqual(['runs.db']);
  });
});

describe('dashboard reader', () => {
  it('a storage deleted and created again is read afresh, not the deleted file', () => {
    const file = path.join(tmp, 'recreated.db');
    storage(file, ['old']);
    const r = new SqliteReader(file);
    const v1 = r.dataVersion();
    expect(r.listExperiments().map((e) => e.name)).toEqual(['old']);
    fs.rmSync(file);
    storage(file, ['new-a', 'new-b']);
    expect(r.dataVersion()).not.toBe(v1);
    expect(r.listExperiments().map((e) => e.name)).toEqual(['new-a', 'new-b']);
    r.close();
  });
});

/**
 * Issue 16 item 3: any number of processes opening or creating one SQLite storage at the same moment
 * all succeed (busy timeout before the schema set-up, the schema created once under BEGIN IMMEDIATE).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ROOT } from '../helpers/cli.js';

const PROCS = 8;
const ROUNDS = 20;

function child(dir: string, id: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/store/fixtures/open-child.ts'), dir, String(ROUNDS), `p${id}`], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`child p${id} exited ${code}: ${err}`))));
  });
}

describe('concurrent open of one SQLite file', () => {
  it(`${PROCS} processes x ${ROUNDS} rounds create and open the same new file at once, all succeed`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-open-'));
    const runs = Array.from({ length: PROCS }, (_, i) => child(dir, i));
    const deadline = Date.now() + 60_000;
    while (fs.readdirSync(dir).filter((f) => f.startsWith('ready-')).length < PROCS && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    fs.writeFileSync(path.join(dir, 'go'), String(Date.now() + 200));
    const outs = await Promise.all(runs);
    const lines = outs.flatMap((o) => o.trim().split('\n'));
    expect(lines.filter((l) => l.startsWith('fail'))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('ok'))).toHaveLength(PROCS * ROUNDS);
    for (let r = 0; r < ROUNDS; r++) {
      const db = new Database(path.join(dir, `round-${r}.db`), { readonly: true });
      expect((db.prepare('SELECT COUNT(*) AS n FROM experiments').get() as { n: number }).n).toBe(1);
      expect((db.prepare('SELECT COUNT(*) AS n FROM trials').get() as { n: number }).n).toBe(PROCS);
      expect((db.prepare('SELECT COUNT(*) AS n FROM schema_version').get() as { n: number }).n).toBe(1);
      db.close();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});

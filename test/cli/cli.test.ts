import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { cli, cliSpawn } from '../helpers/cli.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A one-line error: exit 2, "tsnas: ..." on stderr, no stack trace. */
function expectUserError(r: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^tsnas: /);
  expect(lines[0]).toMatch(pattern);
}

describe('tsnas search / trials / best on NAS-Bench-201', () => {
  it('runs a budgeted search into SQLite and shows it', () => {
    const db = `sqlite:${path.join(tmp, 'nb.db')}`;
    const r = cli(['search', '--space', 'nb201', '--strategy', 'random', '--budget-seconds', '3000', '--seed', '1', '--storage', db]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/experiment "nb201-random-seed1": \d+ trials \(\d+ complete, 0 pruned, 0 failed\), simulated \d+ s/);
    const best = JSON.parse(cli(['best', '--storage', db, '--json']).stdout);
    expect(best.experiment).toBe('nb201-random-seed1');
    expect(best.trials).toBeGreaterThan(15);
    expect(best.best.values[0]).toBeGreaterThan(70);
    const table = cli(['trials', '--storage', db]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`${best.trials} trials`);
    expect(table.stdout).toContain('COMPLETE');
    expect(Math.max(...table.stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(120);
    // the short summary names the best trial and its value, in a few lines
    const short = cli(['best', '--storage', db]).stdout;
    expect(short).toContain(`trial #${best.best.number}: value ${Number(best.best.values[0].toPrecision(4))}`);
    expect(short.trim().split('\n').length).toBeLessThan(8);
    // the same command again finds the budget spent and adds nothing
    const again = cli(['search', '--space', 'nb201', '--strategy', 'random', '--budget-seconds', '3000', '--seed', '1', '--storage', db]);
    expect(again.stdout).toContain(`resuming experiment "nb201-random-seed1": ${best.trials} finished trials kept`);
    expect(JSON.parse(cli(['best', '--storage', db, '--json']).stdout).trials).toBe(best.trials);
  });
});

describe('bad input exits non-zero with one line naming the fix', () => {
  const db = `sqlite:${path.join(tmp, 'bad.db')}`;
  it('unknown strategy', () => {
    expectUserError(cli(['search', '--space', 'nb201', '--strategy', 'annealing', '--trials', '3', '--storage', db]), /unknown strategy "annealing"; choose one of: random, grid/);
  });
  it('malformed space file', () => {
    const f = path.join(tmp, 'space.json');
    fs.writeFileSync(f, JSON.stringify({ params: { lr: { type: 'float', low: 0, high: 1, log: true } } }));
    fs.writeFileSync(path.join(tmp, 'obj.mjs'), 'export const objective = (t) => 1;');
    expectUserError(cli(['search', '--space', f, '--objective', path.join(tmp, 'obj.mjs'), '--trials', '3', '--storage', db]), /space\.json\.params\.lr\.low: must be > 0 when log is true/);
    fs.writeFileSync(f, '{ "params": ');
    expectUserError(cli(['search', '--space', f, '--objective', path.join(tmp, 'obj.mjs'), '--trials', '3', '--storage', db]), /not valid JSON/);
  });
  it('missing data dir', () => {
    expectUserError(
      cli(['search', '--space', 'nb201', '--trials', '3', '--storage', db, '--nb201-dir', path.join(tmp, 'nowhere')]),
      /nb201_cifar10\.csv not found; pass --nb201-dir DIR or set TSNAS_NB201_DIR/,
    );
  });
  it('corrupt or unusable storage path', () => {
    const junk = path.join(tmp, 'junk.db');
    fs.writeFileSync(junk, 'not sqlite '.repeat(500));
    expectUserError(cli(['search', '--space', 'nb201', '--trials', '3', '--storage', `sqlite:${junk}`]), /not a tsnas SQLite database/);
    expectUserError(cli(['search', '--space', 'nb201', '--trials', '3', '--storage', `sqlite:${tmp}`]), /is a directory/);
    expectUserError(cli(['trials', '--storage', `sqlite:${path.join(tmp, 'none.db')}`]), /no such file; run tsnas search/);
    expect(fs.readFileSync(junk, 'utf8')).toBe('not sqlite '.repeat(500)); // nothing overwritten
  });
  it('no stop condition and bad numbers', () => {
    expectUserError(cli(['search', '--space', 'nb201', '--storage', db]), /give a stop condition/);
    expectUserError(cli(['search', '--space', 'nb201', '--trials', 'many', '--storage', db]), /--trials many: give a whole number >= 1/);
  });
});

describe('kill -9 and resume', () => {
  it('keeps finished trials, fails the dead RUNNING one, duplicates nothing', async () => {
    const space = path.join(tmp, 'slow.json');
    const obj = path.join(tmp, 'slow.mjs');
    fs.writeFileSync(space, JSON.stringify({ params: { x: { type: 'int', low: 0, high: 1000 } } }));
    fs.writeFileSync(obj, 'export async function objective(t) { await new Promise((r) => setTimeout(r, 300)); return t.params.x; }');
    const file = path.join(tmp, 'resume.db');
    const args = ['search', '--space', space, '--objective', obj, '--trials', '12', '--seed', '3', '--storage', `sqlite:${file}`];
    const child = cliSpawn(args);
    const exited = new Promise((r) => child.on('exit', r));
    // wait until some trials are done, then kill -9 mid-trial
    const deadline = Date.now() + 30_000;
    let done = 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      if (!fs.existsSync(file)) continue;
      const s = new SqliteStore(file);
      const e = s.getExperiment('slow-random-seed3');
      done = e ? s.getTrials(e.id, ['COMPLETE']).length : 0;
      s.close();
      if (done >= 4) break;
    }
    expect(done).toBeGreaterThanOrEqual(4);
    child.kill('SIGKILL');
    await exited;
    let s = new SqliteStore(file);
    const before = s.getTrials(s.getExperiment('slow-random-seed3')!.id);
    s.close();
    const running = before.filter((t) => t.state === 'RUNNING');
    expect(running).toHaveLength(1);
    const completeBefore = before.filter((t) => t.state === 'COMPLETE');

    const r = cli(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`resuming experiment "slow-random-seed3": ${completeBefore.length} finished trials kept, 1 abandoned`);
    s = new SqliteStore(file);
    const after = s.getTrials(s.getExperiment('slow-random-seed3')!.id);
    s.close();
    // finished trials kept exactly as they were
    for (const t of completeBefore) expect(after.find((a) => a.id === t.id)).toEqual(t);
    const dead = after.find((t) => t.id === running[0]!.id)!;
    expect(dead.state).toBe('FAILED');
    expect(dead.error).toMatch(/process .* died while running this trial/);
    // 12 done (the abandoned one is not counted), numbers contiguous and unique
    expect(after.filter((t) => t.state === 'COMPLETE')).toHaveLength(12);
    expect(after.map((t) => t.number)).toEqual(after.map((_, i) => i));
    expect(after).toHaveLength(13);
  });
});

/** `tsnas trials` / `tsnas best`: 120-column output for every space, escaped stored strings, 12,000 trials fast. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerInspect, trialsTable } from '../../src/cli/inspect.js';
import { safeJson, safeText } from '../../src/cli/trial-text.js';
import { ARCH_SPACES } from '../../src/space/arch/index.js';
import { sampleSpace } from '../../src/space/params.js';
import { openStore } from '../../src/store/index.js';
import type { TrialRecord } from '../../src/core/store.js';
import { Rng } from '../../src/util/rng.js';
import { cliAsync } from '../helpers/cli.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-inspect-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const EVIL = 'bad\x1b]0;pwned\x07\x1b[2J\u202eexe.txt\x9b31m';
const TRAINING = { lr: 0.001, batch_size: 64, optimizer: 'adam', epochs: 3 };

/** A storage of `n` trials of `space` (plus training params), written by direct inserts (about 1 s for 12,000). */
function buildStore(file: string, spaceName: string, n: number, opts: { name?: string; error?: string } = {}): void {
  const store = openStore(`sqlite:${file}`);
  const e = store.openExperiment(opts.name ?? `${spaceName}-exp`, {
    directions: ['maximize'], strategy: { name: 'random' }, space: null, spaceName, seed: 1,
  });
  store.close();
  const db = new Database(file);
  const ins = db.prepare(
    `INSERT INTO trials (experiment_id, number, state, params, distributions, "values", cost, attrs, error, created_at, finished_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, '{}', ?, 0, 0)`,
  );
  const rng = new Rng(`inspect-${spaceName}`);
  const specs = ARCH_SPACES[spaceName]!.space.params;
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const params = { ...sampleSpace(ARCH_SPACES[spaceName]!.space, rng), ...TRAINING, lr: 10 ** -(1 + 3 * rng.random()) };
      const failed = i % 7 === 3;
      const cost = { wallSeconds: 1 + rng.random() * 100, cpuSeconds: 1, simulatedSeconds: 0 };
      const dists = Object.fromEntries(Object.keys(params).filter((k) => specs[k]).map((k) => [k, specs[k]]));
      ins.run(e.id, i, failed ? 'FAILED' : 'COMPLETE', JSON.stringify(params), JSON.stringify(dists), failed ? null : JSON.stringify([rng.random()]), JSON.stringify(cost), failed ? (opts.error ?? 'out of memory\n  at stack') : null);
    }
  })();
  db.close();
}

describe('tsnas trials / best output', () => {
  for (const space of Object.keys(ARCH_SPACES)) {
    it(`${space}: every line of the trials table fits 120 columns and the most varying params come first`, () => {
      const file = path.join(tmp, `${space}.db`);
      buildStore(file, space, 40);
      const store = openStore(`sqlite:${file}`);
      const trials = store.getTrials(store.listExperiments()[0]!.id) as TrialRecord[];
      store.close();
      const text = trialsTable(trials, 120);
      const lines = text.split('\n');
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(120);
      expect(lines.filter((l) => /^\s*\d+\s+(COMPLETE|FAILED)\s/.test(l))).toHaveLength(40);
      // constant training params are shown once, above the table, not in every row
      expect(text).toMatch(/same in every trial: .*batch_size=64/);
      expect(lines.at(-1)).not.toContain('batch_size');
      if (space === 'nb201') expect(lines.at(-1)).toMatch(/^\s*39\s+\S+\s+[\d.]+\s+(c3|c1|avg|skip|-)( \S+)? \| /);
      else expect(lines.at(-1)).toMatch(/^\s*39\s+\S+\s+[\d.]+\s+lr=0\.\d+ /); // lr varies in every trial: first
      // a failed trial's error is its first line only
      expect(text).toContain('out of memory');
      expect(text).not.toContain('at stack');
    });
  }

  it('prints stored names, params and errors with control and bidi characters escaped', async () => {
    const file = path.join(tmp, 'evil.db');
    buildStore(file, 'chain', 10, { name: `exp-${EVIL}`, error: EVIL });
    const [t, b, j] = await Promise.all([
      cliAsync(['trials', '--storage', `sqlite:${file}`]),
      cliAsync(['best', '--storage', `sqlite:${file}`]),
      cliAsync(['best', '--storage', `sqlite:${file}`, '--json']),
    ]);
    expect(t.code).toBe(0);
    expect(b.code).toBe(0);
    expect(j.code).toBe(0);
    for (const out of [t.stdout, b.stdout, j.stdout]) {
      expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    }
    expect(t.stdout).toContain('exp-bad\\x1b]0;pwned\\x07\\x1b[2J\\u{202e}exe.txt\\x9b31m');
    expect(b.stdout).toContain('exp-bad\\x1b]0;pwned');
    // --json stays valid JSON and gives back the exact stored name
    expect(JSON.parse(j.stdout).experiment).toBe(`exp-${EVIL}`);
    expect(safeText('a\nb\tc')).toBe('a\\x0ab\\x09c');
    expect(JSON.parse(safeJson({ s: EVIL })).s).toBe(EVIL);
  }, 60_000);

  describe('12,000 trials', () => {
    const file = path.join(tmp, 'big.db');
    beforeAll(() => buildStore(file, 'cell', 12_000), 60_000);

    it('tsnas trials prints them in under 2 s, 120 columns wide', async () => {
      const out: string[] = [];
      const spy = vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      try {
        const program = new Command().exitOverride();
        registerInspect(program);
        await program.parseAsync(['node', 'tsnas', 'trials', '--storage', `sqlite:${file}`]);
      } finally {
        spy.mockRestore();
      }
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(c0);
      const seconds = (cpu.user + cpu.system) / 1e6;
      console.log(`tsnas trials, 12,000 trials: ${seconds.toFixed(2)} s CPU, ${wall.toFixed(2)} s wall`);
      const lines = out.join('\n').split('\n');
      expect(lines.filter((l) => /^\s*\d+\s+(COMPLETE|FAILED)\s/.test(l))).toHaveLength(12_000);
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(120);
      // CPU time (open, read, format) is what the command costs; wall time on this shared 2-core
      // machine also counts other processes' load, so it gets a generous bound.
      expect(seconds).toBeLessThan(2);
      expect(wall).toBeLessThan(10);
      // and the real command, start-up included, with a generous bound for a loaded machine
      const r = await cliAsync(['trials', '--storage', `sqlite:${file}`, '--limit', '5']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/12000 trials/);
    }, 60_000);
  });
});

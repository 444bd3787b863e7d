/** `tsnas report` and `tsnas dashboard` through the real CLI entry point. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { Nb201Evaluator } from '../../src/estimate/nb201.js';
import { openStore } from '../../src/store/index.js';
import { RandomStrategy } from '../../src/strategy/index.js';
import { Command } from 'commander';
import { isUserError } from '../../src/cli/errors.js';
import { registerReport } from '../../src/cli/report.js';
import { cli } from '../helpers/cli.js';

let tmp: string;
let db: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-report-cli-'));
  db = path.join(tmp, 'runs.db');
  const store = openStore(`sqlite:${db}`);
  const ev = new Nb201Evaluator();
  for (const seed of [1, 2]) {
    await Experiment.open({ store, name: `nb201-s${seed}`, strategy: new RandomStrategy(), space: ev.space, spaceName: 'nb201', seed }).optimize(ev.objective, { nTrials: 20 });
  }
  store.close();
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function expectUserError(r: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

describe('tsnas report', () => {
  it('writes one HTML file holding every experiment and the money cost', () => {
    const out = path.join(tmp, 'r.html');
    const r = cli(['report', '--storage', `sqlite:${db}`, '--out', out, '--cost-per-hour', '2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 experiment(s), 40 trials');
    const html = fs.readFileSync(out, 'utf8');
    const json = /<script type="application\/json" id="tsnas-data">(.*?)<\/script>/s.exec(html)![1]!;
    const data = JSON.parse(json);
    expect(data.experiments.map((e: { name: string }) => e.name)).toEqual(['nb201-s1', 'nb201-s2']);
    for (const e of data.experiments) expect(e.totals.cost).toBeCloseTo((e.totals.simulatedSeconds / 3600) * 2, 9);
  });

  it('bad input is a user error naming the fix', async () => {
    const run = async (args: string[]) => {
      const program = new Command().exitOverride();
      registerReport(program);
      await program.parseAsync(['node', 'tsnas', 'report', ...args]);
    };
    const fails = async (args: string[], pattern: RegExp) => {
      const e = await run(args).then(() => null, (err: unknown) => err);
      expect(isUserError(e)).toBe(true);
      expect((e as Error).message).toMatch(pattern);
    };
    await fails(['--storage', `sqlite:${db}`, '--cost-per-hour', '-1'], /--cost-per-hour -1: give a number >= 0/);
    await fails(['--storage', `sqlite:${path.join(tmp, 'none.db')}`], /no such file/);
    await fails(['--storage', `sqlite:${db}`, '--out', path.join(tmp, 'no', 'r.html')], /does not exist/);
    await fails(['--storage', `sqlite:${db}`, '--name', 'zzz'], /no such experiment/);
  });
});

describe('tsnas dashboard', () => {
  // Serving is tested in test/dashboard; here only the CLI's refusal (exit 2, one line).
  it('refuses a non-loopback address from the environment', () => {
    expectUserError(cli(['dashboard', '--storage', `sqlite:${db}`, '--port', '0'], { env: { TSNAS_DASHBOARD_HOST: '0.0.0.0' } }), /pass --host 0\.0\.0\.0 explicitly/);
  });
});

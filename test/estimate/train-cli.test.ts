/**
 * `tsnas search` on the trained spaces: a real (tiny) search on iris that reports per-trial lines and
 * the best trial's test accuracy, resumes, refuses other training options on resume, and one-line
 * usage errors for space/dataset mismatches.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliAsync, type CliResult } from '../helpers/cli.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const cli = (args: string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> => cliAsync(args, opts);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-train-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('tsnas search --space chain|dag|cell|nb201-cell', () => {
  it('trains every trial for real, prints the test accuracy of the best, resumes with the same options only', async () => {
    const db = path.join(tmp, 'iris.db');
    const argsWith = (epochs: string) => ['search', '--space', 'chain', '--dataset', 'iris', '--trials', '3', '--epochs', epochs,
      '--lr', '0.01', '--batch-size', '16', '--backend', 'wasm', '--storage', `sqlite:${db}`];
    const args = argsWith('3');
    const r = await cli(args, { timeoutMs: 120_000 });
    expect(r.stderr, r.stdout).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^trial #\d COMPLETE value [\d.]+ per-epoch \[[\d.]+, [\d.]+, [\d.]+\]/gm)?.length, r.stdout).toBe(3);
    expect(r.stdout).toMatch(/experiment "chain-iris-random-seed0": 3 trials \(3 complete/);
    expect(r.stdout).toMatch(/best trial #\d: test accuracy [\d.]+ on 30 test samples/);
    const again = await cli([...args, '--no-evaluate-test'], { timeoutMs: 120_000 });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/resuming experiment "chain-iris-random-seed0": 3 finished trials kept/);
    expect(again.stdout).not.toMatch(/^trial #/m);
    const other = await cli(argsWith('5'), { timeoutMs: 60_000 });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/was run with other data\/training options/);
  });

  it('space/dataset mismatches and missing options are one-line usage errors', async () => {
    const db = `sqlite:${path.join(tmp, 'bad.db')}`;
    const cell = await cli(['search', '--space', 'cell', '--dataset', 'iris', '--trials', '1', '--storage', db]);
    expect(cell.code).toBe(2);
    expect(cell.stderr.trim()).toMatch(/^tsnas: --space cell needs image data; iris is tabular .* use --space chain$/);
    const none = await cli(['search', '--space', 'dag', '--trials', '1', '--storage', db]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/trains for real: give --dataset/);
    const csv = path.join(tmp, 'x.csv');
    fs.writeFileSync(csv, 'a,b,label\n1,2,x\n3,4,y\n');
    const noTarget = await cli(['search', '--space', 'chain', '--dataset', csv, '--trials', '1', '--storage', db]);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toMatch(/a CSV needs --target COLUMN/);
    const badBackend = await cli(['search', '--space', 'chain', '--dataset', 'iris', '--backend', 'tfjs-node', '--trials', '1', '--storage', db]);
    if (badBackend.code !== 0) {
      // (Where @tensorflow/tfjs-node is installed the search just runs.)
      expect(badBackend.code).toBe(2);
      expect(badBackend.stderr.trim()).toMatch(/^tsnas: --backend tfjs-node: backend 'tfjs-node' cannot start: @tensorflow\/tfjs-node is not installed/);
    }
    const badFraction = await cli(['search', '--space', 'chain', '--dataset', 'iris', '--data-fraction', '2', '--trials', '1', '--storage', db]);
    expect(badFraction.code).toBe(2);
    expect(badFraction.stderr).toMatch(/--data-fraction 2: give a fraction in \(0, 1\]/);
  });

  it('trains trials in a local pool of processes, each rebuilding the evaluator from the spec', async () => {
    const db = `sqlite:${path.join(tmp, 'pool.db')}`;
    const args = ['search', '--space', 'chain', '--dataset', 'iris', '--executor', 'pool', '--workers', '2', '--trials', '4', '--epochs', '2', '--seed', '3', '--no-evaluate-test', '--storage', db];
    const r = await cli(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/4 trials \(4 complete, 0 pruned, 0 failed\)/);
    const s = new SqliteStore(db.slice('sqlite:'.length));
    const trials = s.getTrials(s.listExperiments()[0]!.id);
    s.close();
    for (const t of trials) {
      expect(t.intermediate.map((i) => i.step)).toEqual([1, 2]); // per-epoch values streamed back from the children
      expect(t.cost.flops).toBeGreaterThan(0);
      expect(t.values![0]).toBeGreaterThan(0);
      expect(t.owner).not.toBe(null);
    }
  });
});

/**
 * `tsnas search --threads N|auto` on a trained space: each trial trains data-parallel on N threads
 * and records it in its training attrs; a bad value is a one-line usage error naming the flag.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliAsync, type CliResult } from '../helpers/cli.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const cli = (args: string[], timeoutMs = 120_000): Promise<CliResult> => cliAsync(args, { timeoutMs });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-threads-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const base = (db: string) => ['search', '--space', 'chain', '--dataset', 'iris', '--trials', '1', '--epochs', '2',
  '--batch-size', '16', '--backend', 'wasm', '--no-evaluate-test', '--storage', `sqlite:${db}`];

function trainingAttrs(db: string): { threads: number } {
  const s = new SqliteStore(db);
  try {
    const trials = s.getTrials(s.listExperiments()[0]!.id);
    expect(trials).toHaveLength(1);
    return trials[0]!.attrs.training as { threads: number };
  } finally {
    s.close();
  }
}

describe('tsnas search --threads', () => {
  it('--threads 2 trains each trial on 2 threads and records it; the default is 1', async () => {
    const two = path.join(tmp, 'two.db');
    const one = path.join(tmp, 'one.db');
    const [r2, r1] = await Promise.all([cli([...base(two), '--threads', '2']), cli(base(one))]);
    expect(r2.stderr, r2.stdout).toBe('');
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/1 trials \(1 complete, 0 pruned, 0 failed\)/);
    expect(trainingAttrs(two).threads).toBe(2);
    expect(r1.code, r1.stderr).toBe(0);
    expect(trainingAttrs(one).threads).toBe(1);
  });

  it('--threads 0 and --threads x exit 2 naming the flag', async () => {
    const rs = await Promise.all(['0', 'x', '1.5'].map((v) => cli([...base(path.join(tmp, `bad${v}.db`)), '--threads', v])));
    for (const [i, v] of ['0', 'x', '1.5'].entries()) {
      expect(rs[i]!.code, rs[i]!.stderr).toBe(2);
      expect(rs[i]!.stderr.trim()).toBe(`tsnas: --threads ${v}: give a whole number >= 1 or auto`);
    }
  });
});

/**
 * The standing bad-input harness (issue 18): every command, fed bad input, prints exactly one
 * `tsnas: ...` line naming the problem, exits 2, and leaves every file as it was. The CLI runs
 * in-process (runCli) so the 200+ cases take seconds; the table is in bad-input-cases.ts.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { buildFixtures, snapshot, type Fixtures } from './bad-input-fixtures.js';
import { cases, type Case } from './bad-input-cases.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await buildFixtures();
}, 60_000);
afterAll(async () => {
  await fx?.close();
});

async function run(c: Case): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spies = [
    vi.spyOn(console, 'log').mockImplementation(() => {}),
    vi.spyOn(console, 'info').mockImplementation(() => {}),
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (stderr += a.join(' ') + '\n')),
    vi.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void (stderr += a.join(' ') + '\n')),
  ];
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(c.env ?? {})) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  let code: number;
  try {
    code = await runCli(['node', 'tsnas', ...c.args], { writeOut: () => {}, writeErr: (s) => void (stderr += s) });
  } catch (e) {
    code = -1;
    stderr += `uncaught: ${(e as Error).stack}\n`;
  } finally {
    for (const s of spies) s.mockRestore();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return { code, stderr };
}

describe('bad-input harness', () => {
  it('holds 200+ cases', () => {
    const n = cases(fx).length;
    console.log(`bad-input harness: ${n} cases`);
    expect(n).toBeGreaterThanOrEqual(200);
  });

  it('every case: one tsnas line naming the problem, exit 2, files unchanged', async () => {
    const failures: string[] = [];
    for (const c of cases(fx)) {
      const before = snapshot(fx.dir);
      const r = await run(c);
      const after = snapshot(fx.dir);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      const label = `tsnas ${c.args.map((a) => (a === '' ? "''" : a.replace(fx.dir, '$F'))).join(' ')}`;
      const problems: string[] = [];
      if (r.code !== 2) problems.push(`exit ${r.code}`);
      if (lines.length !== 1 || !lines[0]!.startsWith('tsnas: ')) problems.push(`stderr is not one tsnas line`);
      const hit = typeof c.expect === 'string' ? r.stderr.includes(c.expect) : c.expect.test(r.stderr);
      if (!hit) problems.push(`no ${JSON.stringify(String(c.expect))}`);
      const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
      if (changed.length > 0) problems.push(`changed ${changed.map((k) => k.replace(fx.dir, '$F')).join(', ')}`);
      if (problems.length > 0) failures.push(`${label}\n    ${problems.join('; ')}\n    ${r.stderr.trim().replaceAll(fx.dir, '$F').split('\n').slice(0, 3).join('\n    ')}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
  }, 120_000);
});

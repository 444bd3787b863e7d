/**
 * tsnas as a package, as a user gets it: `npm pack` of this checkout installed into a scratch ESM
 * project beside @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm (peer dependencies), then the
 * README's library NAS example run there with plain `node`, its model loaded with TensorFlow.js alone,
 * and the CLI's first README command run from the installed package (bundled NAS-Bench-201 tables).
 * Takes minutes (build, install, better-sqlite3 compiled when no prebuilt binary is reachable), so it
 * runs under CI=true (.ci/run) or TSNAS_PACKAGE_TEST=1 and is skipped otherwise.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { missingPeers } from '../../src/util/peer.js';
import { ROOT } from '../helpers/cli.js';
import { strict } from '../helpers/system.js';
import { loadWithPlainTf, readmeExamples } from './readme-examples.js';

const enabled = strict() || process.env.TSNAS_PACKAGE_TEST === '1';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-package-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Asynchronous throughout: a synchronous child blocks the test worker's RPC to vitest for minutes.
const exec = promisify(execFile);
const npm = async (args: string[], cwd: string) => (await exec('npm', args, { cwd, encoding: 'utf8', timeout: 15 * 60_000, maxBuffer: 64 << 20 })).stdout;
/** Runs a command; never throws (the result says how it ended). */
async function run(file: string, args: string[], cwd: string, timeout: number) {
  try {
    const r = await exec(file, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
    return { status: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { status: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? String(e) };
  }
}

describe('missing peer dependencies', () => {
  it('name the install command', () => {
    expect(missingPeers()).toBeNull();
    expect(missingPeers(['@tensorflow/tfjs', 'no-such-peer-xyz'])).toBe(
      'no-such-peer-xyz is not installed; tsnas needs @tensorflow/tfjs and no-such-peer-xyz beside it (peer dependencies): npm install @tensorflow/tfjs no-such-peer-xyz',
    );
  });
});

describe.skipIf(!enabled)('tsnas installed from its packed tarball into a scratch project (CI=true or TSNAS_PACKAGE_TEST=1)', () => {
  const project = path.join(tmp, 'app');

  it('installs with the tfjs peers, one copy of tfjs, the data and the wasm kernels inside', async () => {
    const out = await npm(['pack', '--pack-destination', tmp, '--json'], ROOT);
    const tarball = path.join(tmp, (JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[])[0]!.filename);
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    await npm(['install', tarball, '@tensorflow/tfjs@^4.22.0', '@tensorflow/tfjs-backend-wasm@^4.22.0', '--prefer-offline', '--no-audit', '--no-fund'], project);
    const pkg = path.join(project, 'node_modules', 'tsnas');
    for (const f of ['data/nb201/nb201_cifar10.csv.gz', 'data/nb201/README.md', 'asm/build/kernels.wasm', 'dist/nas.js', 'dist/cli/main.js']) {
      expect(fs.existsSync(path.join(pkg, f)), f).toBe(true);
    }
    expect(fs.existsSync(path.join(pkg, 'node_modules', '@tensorflow'))).toBe(false); // the app's copy is the only one
  }, 20 * 60_000);

  it("runs the README's first command from the installed package", async () => {
    const r = await run(path.join(project, 'node_modules', '.bin', 'tsnas'),
      ['search', '--space', 'nb201', '--strategy', 'evolution', '--budget-seconds', '12000', '--seed', '1', '--storage', 'sqlite:runs.db'],
      project, 120_000);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/experiment "nb201-evolution-seed1": \d+ trials \(\d+ complete, 0 pruned, 0 failed\)/);
  }, 180_000);

  it("runs the README's library NAS example with plain node and loads its model with tf.loadLayersModel", async () => {
    fs.writeFileSync(path.join(project, 'nas.mjs'), readmeExamples()[1]!.code);
    const r = await run(process.execPath, ['nas.mjs'], project, 600_000);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/already registered/);
    expect(Number(/test accuracy ([\d.]+)/.exec(r.stdout)?.[1])).toBeGreaterThan(0.65);
    const model = await loadWithPlainTf(tf, path.join(project, 'my-model'));
    expect((model.predict(tf.zeros([1, 28, 28, 1])) as tf.Tensor).shape).toEqual([1, 10]);
  }, 660_000);
});

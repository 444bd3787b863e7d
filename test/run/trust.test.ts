/**
 * Issue 18 item 3: a `tsnas worker` runs only objective modules on its allow-list and reads data only
 * under its data roots; any other job fails with a one-line reason before a file is opened, and no
 * error text carries a file's contents. Redis with a password (requirepass) works through the URL or
 * TSNAS_REDIS_PASSWORD, and messages never show the password.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { BullmqExecutor } from '../../src/run/bullmq.js';
import { startWorker, type TrialWorker } from '../../src/run/bullmq-worker.js';
import { runWithExecutor } from '../../src/run/coordinator.js';
import type { ObjectiveSpec } from '../../src/run/objective-spec.js';
import { checkRedis, parseRedisUrl, redactUrl } from '../../src/run/redis.js';
import { checkTrusted, resolveTrust } from '../../src/run/trust.js';
import { MemoryStore } from '../../src/store/memory.js';
import { GridStrategy } from '../../src/strategy/grid.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(HERE, 'fixtures');
const SECRET = 'root_password_hash,api_key_sk_live_123';
const PASSWORD = 'pw-18b-test';

let redis: TestRedis;
let dir: string;
let dataRoot: string;
let outside: string;
beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-trust-'));
  dataRoot = path.join(dir, 'data');
  outside = path.join(dir, 'private');
  fs.mkdirSync(dataRoot);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.csv'), `${SECRET}\n1,2\n3,4\n`);
  fs.writeFileSync(path.join(dataRoot, 'mine.csv'), `${SECRET}\n1,2\n3,4\n`);
  fs.copyFileSync(path.join(FIXTURES, 'canary.ts'), path.join(outside, 'canary.ts'));
  fs.symlinkSync(path.join(outside, 'secret.csv'), path.join(dataRoot, 'link.csv'));
});
afterAll(async () => {
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const train = (dataset: string, target = 'nosuch'): ObjectiveSpec => ({
  kind: 'train',
  setup: { space: 'chain', dataset, target, fidelity: { epochs: 1 }, batchSize: 8, optimizer: 'adam', lrSchedule: 'constant', seed: 0, backend: 'cpu' },
});

describe('worker trust model (issue 18.3)', () => {
  it('allows only listed modules and data under the roots, after resolving links and ..', () => {
    const trust = resolveTrust({ allowModules: [FIXTURES], dataRoots: [dataRoot] });
    const refused = (spec: ObjectiveSpec) => {
      try {
        checkTrusted(spec, trust);
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(refused({ kind: 'module', file: path.join(FIXTURES, 'objectives.ts') })).toBeNull();
    expect(refused({ kind: 'jobs', objective: { kind: 'module', file: path.join(FIXTURES, 'objectives.ts') } })).toBeNull();
    expect(refused({ kind: 'module', file: path.join(outside, 'canary.ts') })).toBe(
      `objective module ${path.join(outside, 'canary.ts')} is not on this worker's allow-list; start the worker with --allow-module ${path.join(outside, 'canary.ts')} (or a folder holding it) to run it`,
    );
    expect(refused({ kind: 'module', file: `${FIXTURES}/../../../../etc/passwd` })).toMatch(/not on this worker's allow-list/);
    expect(refused({ kind: 'jobs', objective: { kind: 'module', file: '/etc/passwd' } })).toMatch(/not on this worker's allow-list/);
    // The same words whether or not the file exists (no existence oracle).
    expect(refused({ kind: 'module', file: '/nonexistent/x.ts' })).toMatch(/^objective module \/nonexistent\/x\.ts is not on this worker's allow-list/);
    expect(refused(train(path.join(dataRoot, 'mine.csv')))).toBeNull();
    expect(refused(train('iris'))).toBeNull();
    expect(refused(train(path.join(outside, 'secret.csv')))).toMatch(/^dataset .*secret\.csv is outside this worker's data roots; start the worker with --data-root FOLDER/);
    expect(refused(train(path.join(dataRoot, 'link.csv')))).toMatch(/outside this worker's data roots/); // a link out of the root
    expect(refused(train(`${dataRoot}/../private/secret.csv`))).toMatch(/outside this worker's data roots/);
    expect(refused({ kind: 'nb201', dataset: 'cifar10', dir: '/etc' })).toMatch(/^NAS-Bench-201 folder \/etc is outside this worker's data roots/);
    expect(refused({ kind: 'nb201', dataset: 'cifar10' })).toBeNull();
    expect(refused({ kind: 'train', setup: { ...(train('iris') as { setup: object }).setup, dataset: 'iris', inheritWeights: '/tmp' } } as ObjectiveSpec)).toMatch(
      /^weights folder \/tmp is outside/,
    );
    expect(refused(undefined as unknown as ObjectiveSpec)).toBe('the job carries no objective spec');
    expect(refused({ kind: 'evil' } as unknown as ObjectiveSpec)).toMatch(/^unknown objective kind "evil"/);
    // Nothing allowed by default.
    expect(() => checkTrusted({ kind: 'module', file: path.join(FIXTURES, 'objectives.ts') }, resolveTrust({}))).toThrow(/not on this worker's allow-list/);
    expect(() => resolveTrust({ dataRoots: ['/nonexistent-root'] })).toThrow('--data-root /nonexistent-root: no such file or folder on this machine');
  });

  it('over a password-protected Redis: refused jobs fail with the reason, nothing outside is imported or read, no contents echoed', async () => {
    const canary = path.join(dir, 'canary-imported');
    process.env.TSNAS_TEST_CANARY = canary;
    let w: TrialWorker | null = null;
    try {
      w = await startWorker({ url: redis.url, queue: 'trust', runner: 'inprocess', allowModules: [FIXTURES], dataRoots: [dataRoot], lockMs: 2000 });
      const run = async (objective: ObjectiveSpec, key: string) => {
        const exp = Experiment.open({ store: new MemoryStore(), name: key, strategy: new GridStrategy({ ordered: true }), space: { params: { x: { type: 'categorical', choices: [3] } } }, seed: 1 });
        await runWithExecutor(exp, new BullmqExecutor({ url: redis.url, queue: 'trust', slots: 1, runKey: key, pollMs: 200 }), { objective, nTrials: 1 });
        return exp.trials()[0]!;
      };
      const ok = await run({ kind: 'module', file: path.join(FIXTURES, 'objectives.ts'), exportName: 'sleepy' }, 'ok');
      expect([ok.state, ok.values]).toEqual(['COMPLETE', [3]]);

      const mod = await run({ kind: 'module', file: path.join(outside, 'canary.ts') }, 'mod');
      expect(mod.state).toBe('FAILED');
      expect(mod.error).toMatch(/^worker job failed: objective module .*canary\.ts is not on this worker's allow-list/);
      expect(fs.existsSync(canary)).toBe(false);

      const secret = await run(train(path.join(outside, 'secret.csv')), 'secret');
      expect(secret.state).toBe('FAILED');
      expect(secret.error).toMatch(/outside this worker's data roots/);
      expect(secret.error).not.toMatch(/root_password|api_key/);

      // Inside a data root, a file that is no dataset: the error names the dataset, never its lines.
      const mine = await run(train(path.join(dataRoot, 'mine.csv')), 'mine');
      expect(mine.state).toBe('FAILED');
      expect(mine.error).toMatch(/dataset .*mine\.csv could not be loaded on this worker \(\w+\); the worker's log has the details/);
      expect(mine.error).not.toMatch(/root_password|api_key/);
    } finally {
      delete process.env.TSNAS_TEST_CANARY;
      await w?.close();
    }
  }, 60_000);

  it('Redis auth: the password from the URL or TSNAS_REDIS_PASSWORD; a wrong one is one line without the password', async () => {
    const bare = `redis://127.0.0.1:${redis.port}`;
    await expect(checkRedis(bare)).rejects.toThrow(/^Redis at redis:\/\/127\.0\.0\.1:\d+ refused the password \(or needs one\): give it as redis:\/\/:PASSWORD@HOST:PORT or in TSNAS_REDIS_PASSWORD$/);
    const wrong = `redis://:wrong-secret@127.0.0.1:${redis.port}`;
    const err = await checkRedis(wrong).catch((e: Error) => e);
    expect(String(err)).toMatch(/redis:\/\/:\*\*\*@127\.0\.0\.1/);
    expect(String(err)).not.toMatch(/wrong-secret/);
    await checkRedis(redis.url);
    expect(parseRedisUrl(bare, { TSNAS_REDIS_PASSWORD: PASSWORD }).password).toBe(PASSWORD);
    process.env.TSNAS_REDIS_PASSWORD = PASSWORD;
    try {
      await checkRedis(bare);
    } finally {
      delete process.env.TSNAS_REDIS_PASSWORD;
    }
    expect(redactUrl('redis://user:p%40ss@h:1/0')).toBe('redis://user:***@h:1/0');
    expect(parseRedisUrl('rediss://h:1', {}).tls).toEqual({});
    expect(() => parseRedisUrl('rediss://h:1', { TSNAS_REDIS_CA: '/nonexistent.pem' })).toThrow(/^TSNAS_REDIS_CA=\/nonexistent\.pem: cannot read it \(ENOENT\)/);
  });
});

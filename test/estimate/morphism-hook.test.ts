/**
 * Weight inheritance wired end to end: a TrainingEvaluator with `morphismInheritance` under
 * regularized evolution (children start from their recorded parent's stored weights), random
 * search (nearest finished trial), a resumed experiment, and the CLI flag `--inherit-weights`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { morphismInheritance, type InheritSummary } from '../../src/estimate/morphism/index.js';
import { TrainingEvaluator } from '../../src/estimate/train.js';
import { loadTrainingData } from '../../src/estimate/train-data.js';
import { DirArtifactStore } from '../../src/store/artifacts.js';
import { chainFlatSpace } from '../../src/space/arch/index.js';
import type { ArchSpace } from '../../src/space/arch/types.js';
import type { ParamSpec } from '../../src/space/params.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { TrialRecord } from '../../src/core/store.js';
import { EvolutionStrategy } from '../../src/strategy/evolution.js';
import { RandomStrategy } from '../../src/strategy/random.js';
import { resolveTarget } from '../../src/cli/targets.js';
import { UsageError } from '../../src/cli/errors.js';
import { cliSpawn } from '../helpers/cli.js';

type Inherit = InheritSummary & { startValue: number; seconds: number };

/**
 * chain-flat with two dense ReLU layers: mutations change a width (16/32/64), batch norm or
 * dropout, so many children are exact morphisms of their parent (wider, BN added, dropout) and
 * some are not (narrower, BN removed).
 */
const full = chainFlatSpace.space.params;
const params: Record<string, ParamSpec> = { depth: { type: 'int', low: 2, high: 2 } };
for (const i of [0, 1]) {
  const when = full[`layer_${i}_width`]!.when;
  params[`layer_${i}_op`] = { type: 'categorical', choices: ['dense'], when: full[`layer_${i}_op`]!.when };
  params[`layer_${i}_width`] = { type: 'categorical', choices: [16, 32, 64], when };
  params[`layer_${i}_act`] = { type: 'categorical', choices: ['relu'], when };
  params[`layer_${i}_bn`] = full[`layer_${i}_bn`]!;
  params[`layer_${i}_dropout`] = full[`layer_${i}_dropout`]!;
}
const space: ArchSpace = { name: 'dense2', space: { params }, decode: (p, o) => chainFlatSpace.decode(p, o) };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-morph-hook-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const data = loadTrainingData('iris', { seed: 0 });

function evaluator(dir: string): TrainingEvaluator {
  return new TrainingEvaluator({
    archSpace: space,
    data,
    fidelity: { epochs: 2 },
    batchSize: 16,
    lr: 0.01,
    backend: 'cpu',
    inherit: morphismInheritance({ store: new DirArtifactStore(dir), tf }),
  });
}

const inh = (t: TrialRecord) => t.system.inherit as Inherit | undefined;

describe('TrainingEvaluator with morphismInheritance', () => {
  beforeAll(async () => {
    await evaluator(tmp).ready();
  });

  it('evolution: children start from their parent (exactly where the morphism preserves the function), weights stored, resume continues', async () => {
    const db = path.join(tmp, 'evo.db');
    const dir = path.join(tmp, 'evo-weights');
    const open = (store: SqliteStore) =>
      Experiment.open({ store, name: 'evo', strategy: new EvolutionStrategy({ populationSize: 3, sampleSize: 2 }), space: space.space, seed: 3 });
    const first = new SqliteStore(db);
    await open(first).optimize(evaluator(dir).objective, { nTrials: 6, catchErrors: false });
    first.close();
    const store = new SqliteStore(db); // resume: new store, new evaluator, same artifacts
    const exp = open(store);
    await exp.optimize(evaluator(dir).objective, { nTrials: 12, catchErrors: false });
    const trials = exp.trials();
    store.close();
    expect(trials.map((t) => t.state)).toEqual(Array(12).fill('COMPLETE'));
    const byNumber = new Map(trials.map((t) => [t.number, t]));

    for (const t of trials) {
      const key = `experiment-${exp.id}/trial-${t.number}`;
      expect(t.attrs.weights).toBe(key);
      expect(fs.existsSync(path.join(dir, key, 'weights.bin')) && fs.existsSync(path.join(dir, key, 'graph.json'))).toBe(true);
    }
    expect(inh(trials[0]!)).toBeUndefined(); // nothing to inherit from yet

    const children = trials.filter((t) => t.attrs.parent !== undefined);
    expect(children.length).toBeGreaterThanOrEqual(6);
    let exact = 0;
    for (const c of children) {
      const parent = byNumber.get(c.attrs.parent as number)!;
      expect(parent.number).toBeLessThan(c.number);
      const s = inh(c)!;
      expect(s.parent).toBe(parent.number);
      // Epochs behind the start: the parent's own 2 plus whatever it inherited.
      expect(s.parentEpochs).toBe(2 + (inh(parent)?.parentEpochs ?? 0));
      expect(s.seconds).toBeGreaterThan(0);
      if (s.functionPreserving) {
        exact++;
        expect(Math.abs(s.startValue - parent.values![0]!)).toBeLessThan(1e-4);
      }
    }
    expect(exact).toBeGreaterThanOrEqual(2);
    // The resumed half has children of parents trained (and stored) before the restart.
    expect(children.some((c) => c.number >= 6 && (c.attrs.parent as number) < 6)).toBe(true);
  });

  it('random search: a trial inherits from the nearest finished trial with stored weights', async () => {
    const store = new SqliteStore(':memory:');
    const exp = Experiment.open({ store, name: 'rnd', strategy: new RandomStrategy(), space: space.space, seed: 1 });
    await exp.optimize(evaluator(path.join(tmp, 'rnd')).objective, { nTrials: 3, catchErrors: false });
    const [t0, t1, t2] = exp.trials();
    store.close();
    expect(inh(t0!)).toBeUndefined();
    expect(inh(t1!)!.parent).toBe(0);
    const diff = (a: TrialRecord, b: TrialRecord) => Object.keys(a.params).filter((k) => JSON.stringify(a.params[k]) !== JSON.stringify(b.params[k])).length;
    const nearest = diff(t2!, t1!) <= diff(t2!, t0!) ? 1 : 0;
    expect(inh(t2!)!.parent).toBe(nearest);
  });
});

describe('--inherit-weights', () => {
  it('is refused on untrained spaces, and in trial processes for strategies that pick the nearest trial, in one line naming the flag', async () => {
    const base = { space: 'chain', dataset: 'iris', inheritWeights: true, storage: `sqlite:${path.join(tmp, 'x.db')}`, strategy: 'random' };
    await expect(resolveTarget({ ...base, executor: 'pool' })).rejects.toThrow(UsageError);
    await expect(resolveTarget({ ...base, executor: 'pool' })).rejects.toThrow(/--inherit-weights with --executor\/--workers needs --strategy evolution/);
    await expect(resolveTarget({ ...base, workers: 2 })).rejects.toThrow(/needs --strategy evolution/);
    await expect(resolveTarget({ ...base, space: 'nb201' })).rejects.toThrow(/--inherit-weights: --space nb201 is not trained here/);
    await expect(resolveTarget({ ...base, artifacts: 'redis://127.0.0.1:6379' })).rejects.toThrow(/give --artifacts DIR/);
    const t = await resolveTarget({ ...base, strategy: 'evolution', executor: 'pool' });
    expect(t.spec).toMatchObject({ kind: 'train', setup: { inheritWeights: `${path.join(tmp, 'x.db')}.artifacts` } });
    expect(t.meta?.inheritWeights).toBe(true);
  });

  it.each([['in-process', []], ['in a pool of 2', ['--executor', 'pool', '--workers', '2']]])('CLI: evolution with --inherit-weights %s stores weights next to the storage file and starts each child from its parent', async (label, extra) => {
    const db = path.join(tmp, `cli-${extra.length}.db`);
    const child = cliSpawn(['search', '--space', 'chain', '--dataset', 'iris', '--trials', '5', '--epochs', '2', '--lr', '0.01', '--batch-size', '16',
      '--backend', 'cpu', '--strategy', 'evolution', '--options', '{"populationSize":2}', '--storage', `sqlite:${db}`, '--inherit-weights', '--no-evaluate-test', ...extra]);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, out).toBe(0);
    const store = new SqliteStore(db);
    const exp = store.listExperiments()[0]!;
    const trials = store.getTrials(exp.id);
    store.close();
    expect(exp.config.meta?.inheritWeights).toBe(true);
    expect(trials.filter((t) => t.state === 'COMPLETE')).toHaveLength(5);
    for (const t of trials) expect(fs.existsSync(path.join(`${db}.artifacts`, `experiment-${exp.id}`, `trial-${t.number}`, 'weights.bin'))).toBe(true);
    const kids = trials.filter((t) => typeof t.attrs.parent === 'number');
    expect(kids.length).toBeGreaterThan(0);
    for (const k of kids) expect(inh(k)!.parent).toBe(k.attrs.parent);
    // A trial process does not see the history: the epochs behind the parent's weights are then unknown.
    for (const k of kids) expect(inh(k)!.parentEpochs).toBe(label === 'in-process' ? 2 + (inh(trials[k.attrs.parent as number]!)?.parentEpochs ?? 0) : null);
  }, 90_000);
});

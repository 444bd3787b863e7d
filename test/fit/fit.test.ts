/**
 * The fit library API: deterministic with a trial budget and a seed; the exported folder reloads in
 * a fresh process with identical outputs; the search falls back to the default architecture when
 * no trial finished in time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { TrainingEvaluator } from '../../src/estimate/train.js';
import { chainFlatSpace } from '../../src/space/arch/index.js';
import { fit, type FitResult } from '../../src/fit/fit.js';
import { loadModel } from '../../src/fit/export.js';
import { loadFitData } from '../../src/fit/data.js';
import { defaultParams } from '../../src/fit/defaults.js';
import { planFit } from '../../src/fit/policy.js';
import { openSearch, pickBest, runSearch } from '../../src/fit/search.js';
import { modelOutputs } from '../../src/fit/predict.js';
import { ROOT, runNode } from '../helpers/cli.js';


const tmp = (label: string) => fs.mkdtempSync(path.join(os.tmpdir(), `tsnas-fitlib-${label}-`));

describe('fit (library)', () => {
  let r: FitResult;
  const out = path.join(tmp('iris'), 'model');
  beforeAll(async () => {
    r = await fit({ data: 'iris', trials: 3, seed: 1, out });
  }, 60_000);
  afterAll(() => r?.close());

  it('returns the model, the stored experiment, the plan and the test metric', () => {
    expect(r.experiment.trials()).toHaveLength(3);
    expect(r.experiment.trials()[0]!.params).toEqual(defaultParams(chainFlatSpace, [4], 3)); // the default architecture goes first
    expect(r.plan.space).toBe('chain');
    expect(r.test?.metric).toBe('accuracy');
    expect(r.test!.samples).toBe(30);
    expect(r.test!.value).toBeGreaterThan(0.8);
    expect(r.summary.trials).toMatchObject({ total: 3, complete: 3 });
  });

  it('predicts raw rows with the recorded preprocessing (labels as in the data)', () => {
    const rows = [
      { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
      { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 },
    ];
    expect(r.predict(rows)).toEqual(['setosa', 'virginica']);
  });

  it('is deterministic with a trial budget and a seed', async () => {
    const again = await fit({ data: 'iris', trials: 3, seed: 1 });
    try {
      expect(again.experiment.trials().map((t) => t.values)).toEqual(r.experiment.trials().map((t) => t.values));
      expect(again.test).toEqual(r.test);
    } finally {
      again.close();
    }
  }, 60_000);

  it('reloads in a fresh process with identical outputs (tsnas handler, same backend) and equal labels (plain tfjs, cpu)', async () => {
    const data = loadFitData('iris', { seed: 1 });
    const saved = await loadModel(out);
    const here = modelOutputs(r.model, data.test.x, data.test.shape).values;
    expect(Array.from(modelOutputs(saved.model, data.test.x, data.test.shape).values)).toEqual(Array.from(here));
    saved.model.dispose();
    const inputs = path.join(tmp('inputs'), 'x.json');
    fs.writeFileSync(inputs, JSON.stringify({ x: Array.from(data.test.x), shape: [data.test.y.length, ...data.test.shape] }));
    const run = async (mode: string) => {
      const p = await runNode([path.join(ROOT, 'test/fit/fixtures/reload.mjs'), out, inputs, mode]);
      expect(p.status, p.stderr).toBe(0);
      return JSON.parse(p.stdout) as { backend: string; values: number[] };
    };
    const [same, plain] = await Promise.all([run('tsnas'), run('plain')]);
    expect(same.values).toEqual(Array.from(here)); // bit-identical
    expect(plain.backend).toBe('cpu');
    const argmax = (v: ArrayLike<number>) => Array.from({ length: v.length / 3 }, (_, i) => [0, 1, 2].reduce((b, k) => (v[i * 3 + k]! > v[i * 3 + b]! ? k : b), 0));
    expect(argmax(plain.values)).toEqual(argmax(here));
    plain.values.forEach((v, i) => expect(v).toBeCloseTo(here[i]!, 4));
  }, 60_000);
});

describe('export: tsnas custom layers', () => {
  it('a model with TsnasZero and TsnasAvgPoolSame layers reloads in a fresh process with identical outputs', async () => {
    const { nb201ArchSpace, NB201_EDGE_NAMES } = await import('../../src/space/arch/nb201.js');
    const { buildModel } = await import('../../src/nn/builder.js');
    const { dirHandler } = await import('../../src/fit/export.js');
    const { initBackend } = await import('../../src/nn/backend.js');
    await initBackend({ backend: 'auto' });
    const ops = ['none', 'avg_pool_3x3', 'nor_conv_3x3', 'skip_connect', 'avg_pool_3x3', 'none'];
    const params = Object.fromEntries(NB201_EDGE_NAMES.map((n, i) => [n, ops[i]!]));
    const model = buildModel(nb201ArchSpace.decode(params, { inputShape: [8, 8, 1], numClasses: 3, width: 0.25, cells: 1 }), { outputActivation: 'softmax' });
    const classNames = model.layers.map((l) => l.getClassName());
    expect(classNames).toContain('TsnasZero');
    expect(classNames).toContain('TsnasAvgPoolSame');
    const dir = tmp('custom');
    await model.save(dirHandler(dir));
    const x = Float32Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i));
    const here = Array.from(modelOutputs(model, x, [8, 8, 1]).values);
    model.dispose();
    const inputs = path.join(dir, 'x.json');
    fs.writeFileSync(inputs, JSON.stringify({ x: Array.from(x), shape: [2, 8, 8, 1] }));
    const p = await runNode([path.join(ROOT, 'test/fit/fixtures/reload.mjs'), dir, inputs, 'tsnas']);
    expect(p.status, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).values).toEqual(here);
  }, 60_000);
});

describe('fit (library): regression', () => {
  it('a numeric target with many values is regression: RMSE in the target units, numeric predictions', async () => {
    const file = path.join(tmp('reg'), 'reg.csv');
    const lines = ['a,b,y'];
    for (let i = 0; i < 200; i++) {
      const a = ((i * 37) % 101) / 25 - 2;
      const b = ((i * 53) % 97) / 24 - 2;
      lines.push(`${a.toFixed(3)},${b.toFixed(3)},${(100 + 10 * a - 5 * b).toFixed(3)}`);
    }
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const r = await fit({ data: file, target: 'y', trials: 2, seed: 0 });
    try {
      expect(r.summary.task).toBe('regression');
      expect(r.test).toMatchObject({ metric: 'rmse', samples: 40 });
      expect(r.test!.value).toBeLessThan(5); // the target's std is ~13
      const [p] = r.predict([{ a: 1, b: 0 }]) as number[];
      expect(p).toBeGreaterThan(100);
      expect(p).toBeLessThan(120);
    } finally {
      r.close();
    }
  }, 60_000);
});

describe('fit search: fallbacks when the budget is too small for a trial', () => {
  it('with the deadline already passed no trial runs and the default architecture is retrained', async () => {
    const data = loadFitData('iris');
    const plan = planFit(data.profile, { seconds: 10 });
    const ev = new TrainingEvaluator({ archSpace: chainFlatSpace, data, fidelity: plan.searchFidelity, backend: 'cpu' });
    const defaults = defaultParams(chainFlatSpace, [4], 3);
    const opts = { store: new MemoryStore(), name: 'fallback', evaluator: ev, plan, seed: 0, defaults, meta: {}, deadline: Date.now() - 1 };
    const exp = openSearch(opts);
    expect(await runSearch(exp, opts)).toEqual([]);
    expect(pickBest(exp, defaults)).toEqual({ params: defaults, trial: null, source: 'default' });
  });

  it('picks the default architecture unless a trial beats it by more than one standard error of the validation accuracy', async () => {
    const { Experiment } = await import('../../src/core/experiment.js');
    const { createStrategy } = await import('../../src/strategy/index.js');
    const defaults = defaultParams(chainFlatSpace, [4], 3)!;
    const other = { ...defaults, layer_0_width: 256 };
    const run = async (otherValue: number) => {
      const exp = Experiment.open({ store: new MemoryStore(), name: 'pick', strategy: createStrategy('random'), space: chainFlatSpace.space });
      await exp.tell(await exp.ask(defaults), 0.8);
      await exp.tell(await exp.ask(other), otherValue);
      return pickBest(exp, defaults, 100);
    };
    expect((await run(0.82))!.params).toEqual(defaults); // +0.02 < SE = sqrt(0.82 * 0.18 / 100) = 0.038
    expect((await run(0.9))!.params).toEqual(other); // +0.10 > SE = 0.03
  });

  it('train() with a deadline stops inside the run and keeps the weights (the final retraining under a budget)', async () => {
    const data = loadFitData('synthetic');
    const ev = new TrainingEvaluator({ archSpace: chainFlatSpace, data, fidelity: { epochs: 1000 }, batchSize: 8, backend: 'cpu' });
    const t0 = Date.now();
    const r = await ev.train(defaultParams(chainFlatSpace, [8], 2)!, undefined, { checkpoint: true, deadline: Date.now() + 500 });
    try {
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(r.epochs.length).toBeGreaterThanOrEqual(1);
      expect(r.epochs.length).toBeLessThan(1000);
      expect(r.checkpoint!.epochs).toBe(r.epochs.length);
      expect(r.checkpoint!.weights.length).toBe(6); // 3 dense layers: kernel + bias
    } finally {
      const { disposeCheckpoint } = await import('../../src/estimate/train.js');
      disposeCheckpoint(r.checkpoint!);
    }
  });

  it('a trial cut by the deadline is PRUNED with its partial value and is the fallback choice', async () => {
    const data = loadFitData('synthetic');
    const plan = { ...planFit(data.profile, { seconds: 10 }), searchFidelity: { epochs: 500, dataFraction: 1 }, maxTrials: undefined };
    const ev = new TrainingEvaluator({ archSpace: chainFlatSpace, data, fidelity: plan.searchFidelity, batchSize: 8, backend: 'cpu' });
    const opts = { store: new MemoryStore(), name: 'cut', evaluator: ev, plan, seed: 0, defaults: undefined, meta: {}, deadline: Date.now() + 600 };
    const exp = openSearch(opts);
    const t0 = Date.now();
    const ran = await runSearch(exp, opts);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(ran).toHaveLength(1);
    expect(ran[0]!.state).toBe('PRUNED');
    expect(ran[0]!.attrs.stoppedAtDeadline).toBe(true);
    expect(pickBest(exp, undefined)).toMatchObject({ source: 'partial', params: ran[0]!.params });
  });
});

describe('tsnas entry points', () => {
  it("import 'tsnas' does not load TensorFlow.js; its fit() and tsnas/fit do", async () => {
    const script = `
      const { createRequire } = await import('node:module');
      const req = createRequire(import.meta.url);
      const tfjs = () => Object.keys(req.cache).filter((k) => k.includes('@tensorflow')).length;
      const index = await import('./src/index.ts');
      const before = tfjs();
      await import('./src/fit/index.ts');
      console.log(JSON.stringify({ before, after: tfjs(), fit: typeof index.fit }));`;
    const p = await runNode(['--input-type=module', '-e', script]);
    expect(p.status, p.stderr).toBe(0);
    const r = JSON.parse(p.stdout.trim().split('\n').at(-1)!);
    expect(r).toEqual({ before: 0, after: expect.any(Number), fit: 'function' });
    expect(r.after).toBeGreaterThan(0);
  });
});

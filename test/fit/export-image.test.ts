/**
 * Issue 19: the path data -> fit -> export -> fresh process -> predict gives the model fit tested,
 * for an image model with batch norm and separable convolutions retrained data-parallel on 2
 * threads (the combination whose export predicted garbage). The cell space's default architecture
 * is sep_conv_3x3 (ReLU, separable conv, BN) nodes with skip connections and max-pool reductions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticImageFolder } from '../../src/data/imageWriter.js';
import { loadFitData } from '../../src/fit/data.js';
import { fit, type FitResult } from '../../src/fit/fit.js';
import { datasetInputs, loadPredictionInputs, modelOutputs, predictInputs } from '../../src/fit/predict.js';
import { cliAsync, ROOT, runNode } from '../helpers/cli.js';


const argmax = (v: ArrayLike<number>, units: number) =>
  Array.from({ length: v.length / units }, (_, i) => Array.from({ length: units }, (_, k) => k).reduce((b, k) => (v[i * units + k]! > v[i * units + b]! ? k : b), 0));

describe('fit -> export -> fresh process: image model with batch norm and separable convs, retrained on 2 threads', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-export-image-'));
  const images = path.join(dir, 'images');
  const out = path.join(dir, 'model');
  let r: FitResult | undefined;
  afterAll(() => r?.close());

  it('tsnas predict and plain tf.loadLayersModel reproduce fit\'s test pass exactly', async () => {
    writeSyntheticImageFolder(images, { classes: 4, perClass: 30, width: 16, height: 16, noise: 1.6, seed: 5 });
    r = await fit({ data: images, grayscale: true, space: 'cell', trials: 1, seed: 0, out, plan: { finalThreads: 2, finalFidelity: { epochs: 3 } } });
    const layers = r.model.layers.map((l) => l.getClassName());
    expect(layers).toContain('BatchNormalization');
    expect(layers).toContain('SeparableConv2D');
    expect(r.summary.plan.finalThreads).toBe(2);
    expect(r.test).not.toBeNull();

    // fit's test split again (deterministic in the seed), as the exported model takes it.
    const data = loadFitData(images, { seed: 0, grayscale: true });
    const inputs = datasetInputs(r.preprocessing, data.test);
    const here = modelOutputs(r.model, inputs.x, inputs.shape);
    expect(predictInputs(r.model, r.preprocessing, inputs).metric!.value).toBe(r.test!.value);
    const xfile = path.join(dir, 'x.json');
    fs.writeFileSync(xfile, JSON.stringify({ x: Array.from(inputs.x), shape: [inputs.n, ...inputs.shape] }));
    const reload = async (mode: 'tsnas' | 'plain') => {
      const p = await runNode([path.join(ROOT, 'test/fit/fixtures/reload.mjs'), out, xfile, mode], 90_000);
      expect(p.status, p.stderr).toBe(0);
      return JSON.parse(p.stdout) as { backend: string; values: number[] };
    };
    const [same, plain] = await Promise.all([reload('tsnas'), reload('plain')]);
    expect(same.values).toEqual(Array.from(here.values)); // bit-identical on tsnas's backend
    expect(plain.backend).toBe('cpu');
    const labels = Array.from(data.test.y);
    const accuracy = (p: number[]) => p.filter((c, i) => c === labels[i]).length / labels.length;
    expect(argmax(plain.values, here.units)).toEqual(argmax(here.values, here.units));
    expect(accuracy(argmax(plain.values, here.units))).toBe(r.test!.value);

    // The CLI in a fresh process, on the whole folder: the same labels as the model fit returned.
    const csv = path.join(dir, 'pred.csv');
    const p = await cliAsync(['predict', '--model', out, '--data', images, '--out', csv], { timeoutMs: 90_000 });
    expect(p.code, p.stderr).toBe(0);
    const rows = fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').at(-1));
    const expected = predictInputs(r.model, r.preprocessing, loadPredictionInputs(r.preprocessing, images)).predictions;
    expect(rows).toHaveLength(120);
    expect(rows).toEqual(expected.map(String));
  }, 180_000);
});

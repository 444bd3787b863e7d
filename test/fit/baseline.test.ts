/**
 * fit vs a fixed baseline of the same budget on two public tabular datasets (iris; a larger seeded
 * synthetic checkerboard written as a CSV). The baseline is the plan's default architecture (the
 * chain MLP of src/fit/defaults.ts), trained like fit's final model (train + validation, same batch
 * size, optimiser, learning rate, schedule and seed) for as many epochs as fit consumed in total
 * (every search trial's training samples plus the final retraining's, over the train + validation
 * size), and tested on the same test split.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeSyntheticTabular } from '../../src/data/tabular.js';
import { TrainingEvaluator } from '../../src/estimate/train.js';
import { chainFlatSpace } from '../../src/space/arch/index.js';
import { loadFitData } from '../../src/fit/data.js';
import { defaultParams } from '../../src/fit/defaults.js';
import { concatDatasets } from '../../src/fit/final.js';
import { fit, type FitResult } from '../../src/fit/fit.js';

function consumedSamples(r: FitResult): number {
  let n = 0;
  for (const t of r.experiment.trials()) {
    const tr = t.attrs.training as { epochs: number; trainSamples: number } | undefined;
    if (tr) n += tr.epochs * tr.trainSamples;
  }
  return n + r.summary.final.epochs * r.summary.final.trainSamples;
}

async function baseline(data: string, target: string | undefined, r: FitResult, seed: number): Promise<{ test: number; epochs: number }> {
  const d = loadFitData(data, { target, seed });
  const train = concatDatasets(d.train, d.val, 'train+val');
  const epochs = Math.max(1, Math.round(consumedSamples(r) / train.y.length));
  const ev = new TrainingEvaluator({
    archSpace: chainFlatSpace,
    data: { train, val: d.val, test: d.test },
    fidelity: { epochs, dataFraction: 1 },
    batchSize: r.plan.batchSize,
    optimizer: r.plan.optimizer,
    lr: r.plan.lr,
    lrSchedule: r.plan.lrSchedule,
    seed,
  });
  const res = await ev.evaluateTest(defaultParams(chainFlatSpace, d.train.shape, d.train.numClasses)!);
  return { test: res.test, epochs };
}

function syntheticCsv(): string {
  const n = 1500;
  const ds = makeSyntheticTabular({ n, features: 6, classes: 3, seed: 11, noise: 0.05 });
  const lines = ['f0,f1,f2,f3,f4,f5,kind'];
  for (let i = 0; i < n; i++) lines.push([...ds.x.subarray(i * 6, i * 6 + 6)].map((v) => v.toFixed(5)).join(',') + `,k${ds.y[i]}`);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-fit-synth-')), 'synthetic.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe('fit beats a fixed baseline of the same budget (tabular)', () => {
  const cases: [string, () => { data: string; target?: string }][] = [
    ['iris', () => ({ data: 'iris' })],
    ['synthetic checkerboard CSV (1500 rows, 3 classes)', () => ({ data: syntheticCsv(), target: 'kind' })],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const { data, target } = make();
      const fits: number[] = [];
      const bases: number[] = [];
      for (const seed of [0, 1, 2]) {
        const r = await fit({ data, target, trials: 6, seed });
        try {
          const b = await baseline(data, target, r, seed);
          fits.push(r.test!.value);
          bases.push(b.test);
          console.log(`${name} seed ${seed}: fit ${r.test!.value.toFixed(4)} (best trial #${r.summary.best.trial}) vs baseline ${b.test.toFixed(4)} (${b.epochs} epochs)`);
        } finally {
          r.close();
        }
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      console.log(`${name}: mean fit ${mean(fits).toFixed(4)} vs baseline ${mean(bases).toFixed(4)}`);
      expect(mean(fits)).toBeGreaterThanOrEqual(mean(bases));
    }, 120_000);
  }
});

/** `tsnas predict`: applies a fitted model folder to a CSV, an image folder or a named dataset's test split. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from './errors.js';

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('predict with a model folder written by tsnas fit; writes a CSV with a prediction column')
    .requiredOption('--model <dir>', 'folder written by tsnas fit')
    .requiredOption('--data <csv|folder|name>', 'FILE.csv, an image folder, or mnist | fashion-mnist | iris | synthetic (their test split)')
    .option('--out <file.csv>', 'output CSV', 'predictions.csv')
    .option('--backend <name>', 'auto, wasm or cpu', 'auto')
    .action(async (o) => {
      const dir = path.dirname(path.resolve(o.out));
      if (!fs.existsSync(dir)) throw new UsageError(`--out ${o.out}: folder ${dir} does not exist`);
      const [{ loadModel }, { loadPredictionInputs, predictInputs, predictionsCsv }, { initBackend }] = await Promise.all([
        import('../fit/export.js'),
        import('../fit/predict.js'),
        import('../nn/backend.js'),
      ]);
      await initBackend({ backend: o.backend });
      const saved = await loadModel(o.model);
      const inputs = loadPredictionInputs(saved.preprocessing, o.data);
      const p = predictInputs(saved.model, saved.preprocessing, inputs);
      fs.writeFileSync(o.out, predictionsCsv(p));
      console.log(`wrote ${o.out}: ${p.predictions.length} predictions`);
      if (p.metric) console.log(`${p.metric.name}: ${p.metric.value.toFixed(4)} on ${p.metric.count} labelled rows`);
      saved.model.dispose();
    });
}

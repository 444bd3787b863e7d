/** `tsnas predict`: applies a fitted model folder to a CSV, an image folder or a named dataset's test split. */
import type { Command } from 'commander';
import { checkOutFile, writeFileAtomic } from '../util/output.js';
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
      if (!['auto', 'wasm', 'cpu', 'tfjs-node'].includes(o.backend)) throw new UsageError(`--backend ${o.backend}: use auto, wasm or cpu`);
      if (!o.model) throw new UsageError('--model: empty path; give a folder written by tsnas fit');
      checkOutFile('--out', o.out, [o.data]);
      const [{ loadModel }, { loadPredictionInputs, predictInputs, predictionsCsv }, { initBackend }] = await Promise.all([
        import('../fit/export.js'),
        import('../fit/predict.js'),
        import('../nn/backend.js'),
      ]);
      await initBackend({ backend: o.backend });
      const saved = await loadModel(o.model);
      const inputs = loadPredictionInputs(saved.preprocessing, o.data);
      const p = predictInputs(saved.model, saved.preprocessing, inputs);
      writeFileAtomic(o.out, predictionsCsv(p));
      console.log(`wrote ${o.out}: ${p.predictions.length} predictions`);
      if (p.metric) console.log(`${p.metric.name}: ${p.metric.value.toFixed(4)} on ${p.metric.count} labelled rows`);
      saved.model.dispose();
    });
}

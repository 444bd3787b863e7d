/** `tsnas fit`: data -> searched, retrained, tested and exported model (src/fit). */
import type { Command } from 'commander';
import { UsageError } from './errors.js';

const SPACES = ['auto', 'chain', 'dag', 'cell'];
const TASKS = ['auto', 'classification', 'regression'];

function whole(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < (name === '--seed' ? 0 : 1)) throw new UsageError(`${name} ${v}: give a whole number${name === '--seed' ? '' : ' >= 1'}`);
    return n;
  };
}

export function registerFit(program: Command): void {
  program
    .command('fit')
    .description('search, retrain and export a model for a dataset within a time budget (AutoML)')
    .requiredOption('--data <csv|folder|name>', 'FILE.csv, an image folder (one sub-folder per class), mnist, fashion-mnist, iris or synthetic')
    .option('--target <column>', 'column to predict (CSV files)')
    .option('--task <task>', 'auto, classification or regression', 'auto')
    .option('--time-budget <duration>', 'wall-clock budget of the whole fit, e.g. 10m, 90s, 1h (default 10m unless --trials)')
    .option('--trials <n>', 'number of search trials', whole('--trials'))
    .option('--space <name>', 'auto, chain, dag or cell', 'auto')
    .option('--strategy <name>', 'auto or a strategy name (random, tpe, bo, evolution, ...)', 'auto')
    .option('--out <dir>', 'folder for the model, experiment.db, report.html and fit.json', 'model')
    .option('--seed <n>', 'random seed', whole('--seed'), 0)
    .option('--image-size <px>', 'image folders: resize every image to this side length', whole('--image-size'))
    .option('--grayscale', 'image folders: one luma channel instead of RGB')
    .option('--backend <name>', 'auto, wasm or cpu', 'auto')
    .option('--force', 'replace the fit files --out already holds')
    .action(async (o) => {
      if (!o.out || !String(o.out).trim()) throw new UsageError('--out: empty path; give a folder, e.g. --out model');
      if (!SPACES.includes(o.space)) throw new UsageError(`--space ${o.space}: use one of ${SPACES.join(', ')}`);
      if (!TASKS.includes(o.task)) throw new UsageError(`--task ${o.task}: use one of ${TASKS.join(', ')}`);
      if (!['auto', 'tfjs-node', 'wasm', 'cpu'].includes(o.backend)) throw new UsageError(`--backend ${o.backend}: use auto, wasm or cpu`);
      const { fit } = await import('../fit/fit.js');
      const r = await fit({
        data: o.data,
        target: o.target,
        task: o.task,
        timeBudget: o.timeBudget,
        trials: o.trials,
        space: o.space,
        strategy: o.strategy,
        out: o.out,
        force: o.force === true,
        seed: o.seed,
        imageSize: o.imageSize,
        grayscale: o.grayscale,
        backend: o.backend,
        onProgress: (e) => console.log(e.message),
      });
      const s = r.summary;
      console.log(
        `trials: ${s.trials.total} (${s.trials.complete} complete, ${s.trials.pruned} pruned, ${s.trials.failed} failed); ` +
          `final: ${s.final.epochs} epoch(s) on ${s.final.trainSamples} samples in ${s.final.seconds.toFixed(1)} s` +
          (s.final.stoppedByDeadline ? ' (stopped at the time budget)' : ''),
      );
      if (r.test) console.log(`test ${r.test.metric}: ${r.test.value.toFixed(4)} (${r.test.samples} samples)`);
      console.log(`wrote ${r.outDir}: model.json, weights.bin, genotype.json, preprocessing.json, fit.json, report.html, experiment.db`);
      r.close();
    });
}

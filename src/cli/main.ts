#!/usr/bin/env node
/** The tsnas command line. Each command lives in its own module and registers itself here. */
import { Command, CommanderError } from 'commander';
import { isUserError } from './errors.js';
import { registerInspect } from './inspect.js';
import { registerSearch } from './search.js';
import { registerWorker } from './worker.js';
import { registerReport } from './report.js';
import { registerDashboard } from './dashboard.js';
import { registerFit } from './fit.js';
import { registerPredict } from './predict.js';

const program = new Command()
  .name('tsnas')
  .description('AutoML and neural architecture search for TypeScript')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerSearch(program);
registerInspect(program);
registerWorker(program);
registerReport(program);
registerDashboard(program);
registerFit(program);
registerPredict(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  if (isUserError(e)) {
    console.error(`tsnas: ${e.message}`);
    process.exit(2);
  }
  throw e;
}

#!/usr/bin/env node
/** The tsnas command line. Each command lives in its own module and registers itself here. */
import { Command, CommanderError } from 'commander';
import { missingPeers } from '../util/peer.js';

// Checked before any command module loads TensorFlow.js (a static import would fail with a stack trace).
const missing = missingPeers();
if (missing) {
  console.error(`tsnas: ${missing}`);
  process.exit(2);
}
const { isUserError } = await import('./errors.js');
const { registerInspect } = await import('./inspect.js');
const { registerSearch } = await import('./search.js');
const { registerWorker } = await import('./worker.js');
const { registerReport } = await import('./report.js');
const { registerDashboard } = await import('./dashboard.js');
const { registerFit } = await import('./fit.js');
const { registerPredict } = await import('./predict.js');

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

#!/usr/bin/env node
/** The tsnas command line (src/cli/program.ts). */
import { missingPeers } from '../util/peer.js';

// Checked before any command module loads TensorFlow.js (a static import would fail with a stack trace).
const missing = missingPeers();
if (missing) {
  console.error(`tsnas: ${missing}`);
  process.exit(2);
}
const { runCli } = await import('./program.js');
const code = await runCli(process.argv);
if (code !== 0) process.exit(code);

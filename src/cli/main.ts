#!/usr/bin/env node
/** The tsnas command line (src/cli/program.ts). */
import { runCli } from './program.js';

const code = await runCli(process.argv);
if (code !== 0) process.exit(code);

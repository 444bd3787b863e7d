/**
 * The tsnas command line as a function: `runCli(argv)` parses and runs one command and resolves to
 * its exit status (0, or 2 for bad input with one `tsnas: ...` line on stderr). Long-running commands
 * (dashboard, worker) resolve once started. Each command lives in its own module.
 */
import { Command, CommanderError } from 'commander';
import { userMessage } from './errors.js';
import { registerInspect } from './inspect.js';
import { registerSearch } from './search.js';
import { registerWorker } from './worker.js';
import { registerReport } from './report.js';
import { registerDashboard } from './dashboard.js';
import { registerFit } from './fit.js';
import { registerPredict } from './predict.js';

export interface CliIo {
  /** Where commander writes help and usage errors (default: the process's stdout/stderr). */
  writeOut?: (s: string) => void;
  writeErr?: (s: string) => void;
}

export function buildProgram(io: CliIo = {}): Command {
  const program = new Command()
    .name('tsnas')
    .description('AutoML and neural architecture search for TypeScript')
    .version('0.1.0')
    .exitOverride();
  // A usage error is one line, like every other refusal.
  program.configureOutput({
    ...(io.writeOut ? { writeOut: io.writeOut } : {}),
    ...(io.writeErr ? { writeErr: io.writeErr } : {}),
    outputError: (str, write) => write(`tsnas: ${str.replace(/^error: /, '').trim()} (run with --help for usage)\n`),
  });
  registerSearch(program);
  registerInspect(program);
  registerWorker(program);
  registerReport(program);
  registerDashboard(program);
  registerFit(program);
  registerPredict(program);
  return program;
}

/** Runs one command line (`argv` as process.argv: node, script, args...); bugs keep their stack (rethrown). */
export async function runCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const writeErr = io.writeErr ?? ((s: string) => process.stderr.write(s));
  try {
    await buildProgram(io).parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const line = userMessage(e);
    if (line === null) throw e;
    writeErr(`tsnas: ${line}\n`);
    return 2;
  }
}

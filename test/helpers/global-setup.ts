/** Vitest global setup: says in one line which suites a missing system package leaves out; under CI a missing one fails the run. */
import { missingTools, strict, testPlan } from './system.js';

export default function setup(): void {
  const missing = missingTools();
  if (strict() && missing.length > 0) {
    throw new Error(`CI=true and ${missing.join(', ')} not installed: every test must run in CI (.ci/run installs them: apt-get install ${missing.join(' ')})`);
  }
  const { line } = testPlan();
  if (line) console.log(line);
}

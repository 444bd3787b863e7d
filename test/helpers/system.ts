/**
 * What the test suite needs from the machine beyond npm: Debian's redis-server, chromium and
 * dataset-fashion-mnist. On a machine without them, `npm test` leaves out the test files that need
 * them and says so in one line (what to install); with CI=true (as .ci/run, which installs them) a
 * missing one is a failure, never a skip. TSNAS_TEST_HIDE=redis-server,chromium,dataset-fashion-mnist
 * makes the suite behave as if they were not installed (how a fresh machine is emulated here).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const TOOLS = ['redis-server', 'chromium', 'dataset-fashion-mnist'] as const;
export type Tool = (typeof TOOLS)[number];

/** Test files that cannot run without a tool (tests needing only part of one skip inside the file). */
export const FILES_NEEDING: Record<Tool, string[]> = {
  'redis-server': ['test/run/bullmq.test.ts', 'test/run/faults.test.ts', 'test/run/redis-outage.test.ts'],
  chromium: ['test/report/report.browser.test.ts', 'test/dashboard/dashboard.test.ts'],
  // test/data/mnist.test.ts and test/fit/cli.test.ts skip their Fashion-MNIST cases themselves.
  'dataset-fashion-mnist': [],
};

const hidden = () => new Set((process.env.TSNAS_TEST_HIDE ?? '').split(',').map((s) => s.trim()).filter(Boolean));

function onPath(cmd: string): boolean {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
}

export function installed(tool: Tool): boolean {
  if (hidden().has(tool)) return false;
  switch (tool) {
    case 'redis-server':
      return fs.existsSync('/usr/bin/redis-server');
    case 'chromium':
      return [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].some((p) => !!p && fs.existsSync(p)) || onPath('chromium');
    case 'dataset-fashion-mnist': {
      const dir = process.env.TSNAS_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
      return ['train-images-idx3-ubyte', 't10k-images-idx3-ubyte'].every((f) => fs.existsSync(path.join(dir, f)) || fs.existsSync(path.join(dir, `${f}.gz`)));
    }
  }
}

export const strict = () => process.env.CI === 'true' || process.env.CI === '1';

export const missingTools = (): Tool[] => TOOLS.filter((t) => !installed(t));

/** The files to leave out and the one line that says why (none under CI). */
export function testPlan(): { exclude: string[]; line: string | null } {
  // src/data/mnist.ts finds the files through this variable: hiding the package hides them there too
  // (child processes of the test workers inherit it).
  if (hidden().has('dataset-fashion-mnist')) process.env.TSNAS_FASHION_MNIST_DIR = '/nonexistent/fashion-mnist';
  const missing = missingTools();
  if (missing.length === 0 || strict()) return { exclude: [], line: null };
  const exclude = missing.flatMap((t) => FILES_NEEDING[t]);
  return {
    exclude,
    line:
      `tsnas tests: ${missing.join(', ')} not installed, so ${exclude.length} test files and the Fashion-MNIST cases are left out; ` +
      `sudo apt-get install ${missing.join(' ')} runs them (CI=true: a missing one fails)`,
  };
}

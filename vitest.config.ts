import { configDefaults, defineConfig } from 'vitest/config';
import { testPlan } from './test/helpers/system.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Files that need a Debian package this machine lacks (redis-server, chromium); none under CI.
    exclude: [...configDefaults.exclude, ...testPlan().exclude],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

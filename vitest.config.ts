import { defineConfig } from 'vitest/config';

// Unit tests live beside the code (src/**/x.test.ts); whole-service tests in test/.
// Forks, not threads: better-sqlite3 is a native addon and several tests spawn servers.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    // Real Postgres, real processes: generous per-test limits, but no timing assertions anywhere.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    execArgv: ['--expose-gc'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/deploy/**/*.test.ts', 'test/install/**/*.test.ts', 'test/fuzz/**/*.test.ts', 'test/pooler/**/*.test.ts', 'test/python/**/*.test.ts'],
          exclude: ['**/*.chaos.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        // One file at a time: each starts several processes, and they share a 2-core machine.
        test: { name: 'chaos', include: ['test/chaos/**/*.chaos.test.ts'], fileParallelism: false },
      },
    ],
  },
});

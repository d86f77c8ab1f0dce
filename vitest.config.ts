import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// graphql 16 ships a CommonJS build (index.js) and an ES module build (index.mjs). Node loads the
// former for everything (Pothos, Yoga and graphql-ws too), but Vite would give our own sources the
// latter, and graphql-js refuses to mix types and errors from two copies ("Cannot use
// GraphQLScalarType from another module or realm"). Point Vite at the file Node loads.
const graphqlEntry = createRequire(new URL('./services/api/package.json', import.meta.url)).resolve('graphql');

export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlEntry }] },
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

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { printSchemaSdl } from '../../src/graphql/schema.ts';

it('matches the committed schema.graphql', () => {
  const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
  const current = printSchemaSdl();
  // The client package generates its types from the committed file; a stale one means stale types.
  expect(current === committed, 'services/api/schema.graphql is out of date: run `pnpm codegen` and commit it').toBe(true);
  expect(current).toContain('taskUpdated(id: ID!): Task!');
});

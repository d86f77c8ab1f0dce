import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createClient } from './connect.ts';
import { withDatabase } from './database-url.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    tasklaneAdminUrl: string;
    tasklaneTemplateDb: string;
    tasklaneDbPrefix: string;
  }
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A fresh database for one test file, cloned from the migrated template that the global setup
 * made: real Postgres, isolated, and fast because cloning copies files instead of migrating.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('tasklaneAdminUrl');
  const template = inject('tasklaneTemplateDb');
  const name = `${inject('tasklaneDbPrefix')}${randomBytes(6).toString('hex')}`;
  const admin = createClient(adminUrl, 'tasklane-test-admin');
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl, name),
    name,
    async drop() {
      const client = createClient(adminUrl, 'tasklane-test-admin');
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

export { findPgBouncer, startPgBouncer, type PgBouncer, type PgBouncerOptions } from './pgbouncer-process.ts';

/**
 * Settings for an API under test that submits kinds no worker registers (each test makes up its
 * own and drives its tasks by hand): `TASK_KINDS=*` turns the kinds check off.
 */
export const ANY_KIND = { TASK_KINDS: '*' } as const;

export { createTaskDriver, type TaskDriver, type TaskRef } from './task-driver.ts';

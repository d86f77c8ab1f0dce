import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { createClient, createPool } from './connect.ts';
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

/** What {@link useTestPool} gives a test file, set once its `beforeAll` has run. */
export interface TestPool {
  readonly pool: pg.Pool;
  readonly database: TestDatabase;
}

/**
 * A database of this test file's own (see {@link createTestDatabase}) and a `createPool` pool on
 * it, made before the file's tests and dropped after them: call at the top of the file.
 */
export function useTestPool({ max }: { max?: number } = {}): TestPool {
  let state: { pool: pg.Pool; database: TestDatabase } | undefined;
  const ready = () => {
    if (!state) throw new Error('useTestPool: read the pool inside a test or hook, after its beforeAll ran');
    return state;
  };
  beforeAll(async () => {
    const database = await createTestDatabase();
    state = { database, pool: createPool({ connectionString: database.url, ...(max === undefined ? {} : { max }) }) };
  });
  afterAll(async () => {
    if (!state) return;
    await state.pool.end();
    await state.database.drop();
  });
  return {
    get pool() {
      return ready().pool;
    },
    get database() {
      return ready().database;
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

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

const backend = async (pool: ReturnType<typeof createPool>) => (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;

describe('the pool of createPool', () => {
  it('keeps the connection of a statement that failed, named or not', async () => {
    const pool = createPool({ connectionString: database.url, max: 1 });
    try {
      const pid = await backend(pool);
      await expect(pool.query('select 1 / 0')).rejects.toMatchObject({ code: '22012' });
      await expect(pool.query({ name: 'broken', text: 'select * from no_such_table' })).rejects.toMatchObject({ code: '42P01' });
      expect(await backend(pool)).toBe(pid);
      expect(pool.totalCount).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('replaces a connection whose server went away, without an unhandled error', async () => {
    const pool = createPool({ connectionString: database.url, max: 1 });
    const admin = createPool({ connectionString: database.url, max: 1 });
    try {
      const pid = await backend(pool);
      // Settled into a value at once: the rejection may come before the test awaits it.
      const running = pool.query('select pg_sleep(30)').then(
        () => 'finished',
        (error: unknown) => error,
      );
      await expect.poll(async () => (await admin.query(`select count(*)::int as n from pg_stat_activity where pid = $1 and query like 'select pg_sleep%'`, [pid])).rows[0].n).toBe(1);
      await admin.query('select pg_terminate_backend($1)', [pid]);
      expect(await running).toBeInstanceOf(Error);
      const next = await backend(pool);
      expect(next).not.toBe(pid);
    } finally {
      await admin.end();
      await pool.end();
    }
  });

  it('still answers callback-style queries', async () => {
    const pool = createPool({ connectionString: database.url, max: 1 });
    try {
      const rows = await new Promise<unknown[]>((resolve, reject) => pool.query('select 2 as two', (error, result) => (error ? reject(error) : resolve(result.rows))));
      expect(rows).toEqual([{ two: 2 }]);
    } finally {
      await pool.end();
    }
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createClient, createPool, migrateToLatest, migrationsApplied, TaskStore, withDatabase } from '../src/index.ts';
import { migrations } from '../src/migrations/index.ts';

describe('migrations', () => {
  it('are safe to run from several processes at once and twice in a row', async () => {
    const adminUrl = inject('tasklaneAdminUrl');
    const name = `${inject('tasklaneDbPrefix')}${randomBytes(6).toString('hex')}`;
    const admin = createClient(adminUrl);
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = withDatabase(adminUrl, name);
    try {
      const runs = await Promise.all([migrateToLatest(url), migrateToLatest(url), migrateToLatest(url)]);
      // Every migration once, in order, whichever process ran it.
      expect(runs.flat()).toEqual(Object.keys(migrations).sort());
      expect(await migrateToLatest(url)).toEqual([]);
      const pool = createPool({ connectionString: url });
      const store = new TaskStore(pool);
      expect(await migrationsApplied(store.pool)).toBe(true);
      await pool.end();
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});

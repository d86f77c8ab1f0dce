import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type pg from 'pg';
import { AdvisoryLock, CLAIM_SLOTS, createPool, runMaintenance, TaskStore } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let database: TestDatabase;
let pool: pg.Pool;
let store: TaskStore;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url, max: 4 });
  store = new TaskStore(pool);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});
beforeEach(async () => {
  await pool.query('delete from tasklane.tasks');
});

/** Holds the given advisory locks in a session of its own until release is called. */
async function hold(locks: [number, number?][]): Promise<() => Promise<void>> {
  const client = await pool.connect();
  for (const [key, second] of locks) {
    if (second === undefined) await client.query('select pg_advisory_lock($1::bigint)', [key]);
    else await client.query('select pg_advisory_lock($1::integer, $2::integer)', [key, second]);
  }
  return async () => {
    await client.query('select pg_advisory_unlock_all()');
    client.release();
  };
}

/** A claim of one task that gives up instead of waiting for a lock: the error code, or the count claimed. */
async function claimOnce(kind: string, fast: boolean): Promise<string | number> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(`set local lock_timeout = '50ms'`);
    const { rows } = await client.query(
      'select * from tasklane.claim_batch($1, 1, $2::text[], 1000, $3::jsonb, 30, $4)',
      ['lock-test', [kind], '{}', fast],
    );
    await client.query('commit');
    return rows.length;
  } catch (error) {
    await client.query('rollback');
    return (error as { code?: string }).code ?? String(error);
  } finally {
    client.release();
  }
}

it('makes an exclusive claim wait on the claimCaps lock', async () => {
  await store.submit({ kind: 'locks_caps' });
  const release = await hold([[AdvisoryLock.claimCaps]]);
  try {
    expect(await claimOnce('locks_caps', false)).toBe('55P03');
  } finally {
    await release();
  }
  expect(await claimOnce('locks_caps', false)).toBe(1);
});

it('lets a fast claim through while one of the CLAIM_SLOTS claim slots is free, not when all are held', async () => {
  await store.submitMany([{ kind: 'locks_slots' }, { kind: 'locks_slots' }]);
  const allButOne = Array.from({ length: CLAIM_SLOTS - 1 }, (_, n): [number, number] => [AdvisoryLock.claimSlot, n]);
  let release = await hold(allButOne);
  try {
    expect(await claimOnce('locks_slots', true)).toBe(1);
  } finally {
    await release();
  }
  release = await hold([...allButOne, [AdvisoryLock.claimSlot, CLAIM_SLOTS - 1]]);
  try {
    // No slot free: the claim turns exclusive, which waits for every slot.
    expect(await claimOnce('locks_slots', true)).toBe('55P03');
  } finally {
    await release();
  }
});

it('leaves the maintenance round to whoever holds the maintenance lock', async () => {
  const release = await hold([[AdvisoryLock.maintenance]]);
  try {
    expect((await runMaintenance(pool, { retentionHours: 24 })).elected).toBe(false);
  } finally {
    await release();
  }
  expect((await runMaintenance(pool, { retentionHours: 24 })).elected).toBe(true);
});

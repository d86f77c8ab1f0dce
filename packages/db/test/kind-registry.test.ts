import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@tasklane/core';
import { createPool, KindRegistry, knownKinds, liveKinds, TaskStore, WorkerStore } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url });
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

function workerServing(id: string, kinds: string[]): WorkerStore {
  return new WorkerStore(pool, { workerId: id, leaseSeconds: 30, kinds });
}

async function refusal(promise: Promise<unknown>): Promise<ValidationError> {
  const error = await promise.then(
    () => expect.fail('expected a ValidationError'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

/** A registry over a database of its own, for tests about an empty registry. */
async function withEmptyDatabase(run: (pool: ReturnType<typeof createPool>) => Promise<void>): Promise<void> {
  const empty = await createTestDatabase();
  const emptyPool = createPool({ connectionString: empty.url });
  try {
    await run(emptyPool);
  } finally {
    await emptyPool.end();
    await empty.drop();
  }
}

describe('registration', () => {
  it('registers the kinds a worker serves with its heartbeat, live while its lease is', async () => {
    const worker = workerServing('w-reg', ['reg_a', 'reg_b']);
    await worker.heartbeat([]);
    expect((await knownKinds(pool)).get('reg_a')).toBe(1);
    expect([...(await liveKinds(pool))]).toEqual(expect.arrayContaining(['reg_a', 'reg_b']));

    await workerServing('w-reg-2', ['reg_a']).heartbeat([]);
    expect((await knownKinds(pool)).get('reg_a')).toBe(2);

    // A stopped worker's kinds stay known but are no longer live.
    await worker.unregister();
    await workerServing('w-reg-2', []).unregister();
    expect((await knownKinds(pool)).get('reg_b')).toBe(0);
    expect(await liveKinds(pool)).not.toContain('reg_b');
  });

  it('counts a worker whose lease has expired as not live', async () => {
    await workerServing('w-expired', ['exp_a']).heartbeat([]);
    await pool.query(`update tasklane.workers set expires_at = now() - interval '1 second' where id = 'w-expired'`);
    expect((await knownKinds(pool)).get('exp_a')).toBe(0);
    expect(await liveKinds(pool)).not.toContain('exp_a');
  });
});

describe('the kinds check', () => {
  it('refuses a kind no worker registered and TASK_KINDS does not declare, naming the known kinds', async () => {
    await workerServing('w-check', ['chk_video']).heartbeat([]);
    const registry = new KindRegistry(pool, { declared: ['chk_declared'] });
    const error = await refusal(registry.assertKnown('chk_typo'));
    expect(error.field).toBe('kind');
    expect(error.rule).toMatch(/^no worker serves "chk_typo" and TASK_KINDS does not declare it; known kinds: .*chk_declared, chk_video/);
    await registry.assertKnown('chk_video');
    await registry.assertKnown('chk_declared');
  });

  it('accepts a kind registered after the registry last read, reading again on a miss', async () => {
    const registry = new KindRegistry(pool);
    await workerServing('w-first', ['miss_a']).heartbeat([]);
    await registry.assertKnown('miss_a');
    await workerServing('w-later', ['miss_b']).heartbeat([]);
    await expect.poll(() => registry.assertKnown('miss_b').then(() => 'accepted', (e: Error) => e.message)).toBe('accepted');
  });

  it('accepts any well-formed kind with TASK_KINDS=*', async () => {
    await new KindRegistry(pool, { anyKind: true }).assertKnown('never_registered');
  });

  it('waits for the first registration on a fresh database, so a submission racing the workers start is accepted', async () => {
    await withEmptyDatabase(async (emptyPool) => {
      const registry = new KindRegistry(emptyPool, { firstRegistrationWaitMs: 120_000 });
      const checked = registry.assertKnown('first_kind');
      let settled = false;
      void checked.finally(() => (settled = true)).catch(() => {});
      // Register only once it has read the empty registry twice: it is waiting, not refusing.
      const reads = async () => {
        const { rows } = await emptyPool.query<{ n: number }>(
          `select (seq_scan + coalesce(idx_scan, 0))::int as n from pg_stat_user_tables where schemaname = 'tasklane' and relname = 'kinds'`,
        );
        return rows[0]?.n ?? 0;
      };
      await expect.poll(reads, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
      expect(settled).toBe(false);
      await new WorkerStore(emptyPool, { workerId: 'w-boot', leaseSeconds: 30, kinds: ['first_kind'] }).heartbeat([]);
      await checked;
    });
  });

  it('refuses at once, saying how to fix it, when no kind is known after the start window', async () => {
    await withEmptyDatabase(async (emptyPool) => {
      const error = await refusal(new KindRegistry(emptyPool, { firstRegistrationWaitMs: 0 }).assertKnown('lonely'));
      expect(error.message).toBe(
        'kind: no worker has registered any kind yet and TASK_KINDS is empty: start a worker for "lonely", or declare it with TASK_KINDS=lonely',
      );
    });
  });

  it('says a declared kind with no live worker lacks one, and a served kind does not', async () => {
    await workerServing('w-live', ['live_a']).heartbeat([]);
    const registry = new KindRegistry(pool, { declared: ['live_declared'], ttlMs: 0 });
    expect(await registry.lacksLiveWorker('live_declared')).toBe(true);
    expect(await registry.lacksLiveWorker('live_a')).toBe(false);
    expect(await new KindRegistry(pool, { anyKind: true }).lacksLiveWorker('live_declared')).toBe(false);
    const statuses = await registry.statuses();
    expect(statuses).toContainEqual({ kind: 'live_declared', registered: false, declared: true, liveWorkers: 0, paused: false, pausedAt: null });
    expect(statuses).toContainEqual({ kind: 'live_a', registered: true, declared: false, liveWorkers: 1, paused: false, pausedAt: null });
  });
});

describe('a store with the kinds check', () => {
  it('refuses a bulk submission naming the first task of an unknown kind, and stores none of it', async () => {
    await workerServing('w-bulk', ['bulk_ok']).heartbeat([]);
    const store = new TaskStore(pool, { kinds: new KindRegistry(pool) });
    const error = await refusal(store.submitMany([{ kind: 'bulk_ok' }, { kind: 'bulk_ok' }, { kind: 'bulk_typo' }, { kind: 'bulk_typo' }]));
    expect(error.field).toBe('tasks[2].kind');
    const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where kind like 'bulk_%'`);
    expect(rows[0]!.n).toBe(0);
    expect(await store.submitMany([{ kind: 'bulk_ok' }])).toHaveLength(1);
  });
});

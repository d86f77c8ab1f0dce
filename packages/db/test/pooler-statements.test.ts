import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PreparedStatementsMode } from '@tasklane/core';
import { createPool, statementHealth, TaskStore, usesNamedStatements, WorkerStore } from '../src/index.ts';
import { createTestDatabase, findPgBouncer, startPgBouncer, type PgBouncer, type TestDatabase } from '../src/testing.ts';

// PgBouncer with one server connection: every client shares it, so a statement one client
// prepared is there when the next client prepares the same name (42P05), which a bigger pool in
// production only does by bad luck.
const pgbouncer = findPgBouncer();
if (!pgbouncer) console.warn('pooler-statements: skipped, pgbouncer not found (Debian: apt-get install pgbouncer; .ci/run installs it)');

const CAPS = { total: 1000, perKind: {} };

describe.skipIf(!pgbouncer)('hot statements behind PgBouncer in transaction mode', () => {
  let database: TestDatabase;
  let bouncer: PgBouncer;
  let direct: pg.Pool;
  let store: TaskStore;
  const pools: pg.Pool[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    bouncer = await startPgBouncer({ upstreamUrl: database.url, poolSize: 1 });
    direct = createPool({ connectionString: database.url, max: 2 });
    store = new TaskStore(direct);
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await direct?.end();
    await bouncer?.stop();
    await database?.drop();
  });
  beforeEach(async () => {
    await direct.query('delete from tasklane.tasks');
    // Each test starts with nothing prepared on the one server connection.
    const cleaner = pooled('off');
    await cleaner.pool.query('deallocate all');
  });

  function pooled(mode: PreparedStatementsMode): { pool: pg.Pool; notices: string[] } {
    const notices: string[] = [];
    const pool = createPool({ connectionString: bouncer.url(database.url), max: 2, statements: { mode, onUnnamed: (m) => notices.push(m) } });
    pools.push(pool);
    return { pool, notices };
  }

  async function pending(count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await store.submit({ kind: 'pooler' })).task.id);
    return ids;
  }

  it('in auto mode retries a claim refused with 42P05 unnamed, and says so once', async () => {
    const first = pooled('auto');
    const second = pooled('auto');
    const ids = await pending(2);
    const a = await new WorkerStore(first.pool, { workerId: 'pooler-a', leaseSeconds: 30 }).claim(1, ['pooler'], CAPS);
    // The second client prepares the same name on the one server connection the first used.
    const b = await new WorkerStore(second.pool, { workerId: 'pooler-b', leaseSeconds: 30 }).claim(1, ['pooler'], CAPS);
    expect([...a, ...b].map((t) => t.id).sort()).toEqual(ids.sort());
    expect(first.notices).toEqual([]);
    expect(second.notices).toHaveLength(1);
    expect(second.notices[0]).toMatch(/tasklane_claim got "prepared statement "tasklane_claim_[0-9a-f]+" already exists" \(42P05\)/);
    expect(usesNamedStatements(second.pool)).toBe(false);
    expect(statementHealth(second.pool).errorCounts()).toEqual([{ statement: 'tasklane_claim', code: '42P05', count: 1 }]);

    // From then on nothing is named: more claims and completions go through without a refusal.
    const more = await pending(3);
    const worker = new WorkerStore(second.pool, { workerId: 'pooler-b', leaseSeconds: 30 });
    const claimed = await worker.claim(3, ['pooler'], CAPS);
    expect(claimed.map((t) => t.id).sort()).toEqual(more.sort());
    const done = await worker.complete(claimed.map((t) => ({ id: t.id, attempt: t.attempts, result: { ok: true } })));
    expect(done.size).toBe(3);
    expect(second.notices).toHaveLength(1);
    expect(statementHealth(second.pool).problem(0)).toBeUndefined();
  });

  it('in auto mode retries a heartbeat whose statement the server connection lost (26000)', async () => {
    const { pool, notices } = pooled('auto');
    const worker = new WorkerStore(pool, { workerId: 'pooler-c', leaseSeconds: 30 });
    expect(await worker.heartbeat([])).toEqual([]);
    // What a pooler does when it hands this client another server connection: the name is gone there.
    const other = pooled('off');
    await other.pool.query('deallocate all');
    expect(await worker.heartbeat([])).toEqual([]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/tasklane_heartbeat got .* \(26000\)/);
    expect(statementHealth(pool).errorCounts()).toEqual([{ statement: 'tasklane_heartbeat', code: '26000', count: 1 }]);
  });

  it('with named statements on, passes the refusal up and counts it by statement and code', async () => {
    const first = pooled('on');
    const second = pooled('on');
    await pending(1);
    await new WorkerStore(first.pool, { workerId: 'pooler-d', leaseSeconds: 30 }).claim(1, ['pooler'], CAPS);
    const refused = new WorkerStore(second.pool, { workerId: 'pooler-e', leaseSeconds: 30 }).claim(1, ['pooler'], CAPS);
    await expect(refused).rejects.toMatchObject({ code: '42P05' });
    expect(second.notices).toEqual([]);
    expect(usesNamedStatements(second.pool)).toBe(true);
    expect(statementHealth(second.pool).errorCounts()).toEqual([{ statement: 'tasklane_claim', code: '42P05', count: 1 }]);
  });

  it('with named statements off, prepares nothing on the server', async () => {
    const first = pooled('off');
    const second = pooled('off');
    const ids = await pending(2);
    const a = await new WorkerStore(first.pool, { workerId: 'pooler-f', leaseSeconds: 30 }).claim(1, ['pooler'], CAPS);
    const b = await new WorkerStore(second.pool, { workerId: 'pooler-g', leaseSeconds: 30 }).claim(1, ['pooler'], CAPS);
    expect([...a, ...b].map((t) => t.id).sort()).toEqual(ids.sort());
    await first.pool.query('deallocate all');
    await new TaskStore(second.pool).get(ids[0]!);
    const { rows } = await first.pool.query<{ n: number }>('select count(*)::int as n from pg_prepared_statements');
    expect(rows[0]!.n).toBe(0);
    expect(statementHealth(second.pool).errorCounts()).toEqual([]);
  });
});

import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ApiKeyStore, createPool, freePort } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Proc, saveLogs, stopAll, until, waitReady } from '../../../test/chaos/processes.ts';
import { untilQuietPartOfMinute } from './rate-limit-clock.ts';

const API_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const SUBMISSIONS_PER_MINUTE = 5;
const SUBSCRIPTIONS = 2;

/**
 * Two real API processes on one database, as two replicas behind a load balancer: every limit
 * must hold for an owner's requests combined, wherever they land.
 */
describe('rate limits across two API processes', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  const procs: Proc[] = [];
  let apis: string[] = [];
  const keys: Record<'alice' | 'bob', string> = { alice: '', bob: '' };
  const clients: WsClient[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    const store = new ApiKeyStore(pool);
    keys.alice = (await store.create({ owner: 'alice' })).key;
    keys.bob = (await store.create({ owner: 'bob' })).key;
    const ports = [await freePort(), await freePort()];
    apis = ports.map((port) => `http://127.0.0.1:${port}`);
    for (const [i, port] of ports.entries()) {
      procs.push(
        new Proc(`api${i}`, API_MAIN, {
          DATABASE_URL: database.url,
          PORT: String(port),
          LOG_LEVEL: 'error',
          AUTH: 'on',
          RATE_LIMIT_SUBMISSIONS_PER_MINUTE: String(SUBMISSIONS_PER_MINUTE),
          RATE_LIMIT_SUBSCRIPTIONS: String(SUBSCRIPTIONS),
          RATE_LIMIT_STORE: 'postgres',
          DATABASE_POOL_SIZE: '4',
        }),
      );
    }
    await Promise.all(apis.map((api) => waitReady(api)));
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await stopAll(procs);
    if (procs.some((p) => p.exitCode !== 0)) console.log(`rate-limit cluster: process logs in ${saveLogs(procs, 'rate-limit')}`);
    await pool?.end();
    await database?.drop();
  });

  function submit(api: string, owner: 'alice' | 'bob', kind: string) {
    return fetch(`${api}/api/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[owner]}` },
      body: JSON.stringify({ kind }),
    });
  }

  async function tasksOf(owner: string, kind: string): Promise<number> {
    const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from tasklane.tasks where owner = $1 and kind = $2', [owner, kind]);
    return rows[0]!.n;
  }

  it("stops one owner's combined submissions at the limit while another owner is unaffected", async () => {
    await untilQuietPartOfMinute();
    // Twelve at once, alternating between the processes.
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => submit(apis[i % 2]!, 'alice', 'rl_cluster')));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(SUBMISSIONS_PER_MINUTE);
    expect(statuses.filter((s) => s === 429)).toHaveLength(12 - SUBMISSIONS_PER_MINUTE);
    // Both processes refused some: the budget is shared, not per process.
    expect(new Set(responses.filter((r) => r.status === 429).map((r) => r.url))).toHaveProperty('size', 2);
    for (const refused of responses.filter((r) => r.status === 429)) {
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { code: string }).code).toBe('RATE_LIMITED');
    }
    expect(await tasksOf('alice', 'rl_cluster')).toBe(SUBMISSIONS_PER_MINUTE);

    const bob = await Promise.all(Array.from({ length: SUBMISSIONS_PER_MINUTE }, (_, i) => submit(apis[i % 2]!, 'bob', 'rl_cluster')));
    expect(bob.map((r) => r.status)).toEqual(Array(SUBMISSIONS_PER_MINUTE).fill(202));
    expect(bob.map((r) => r.headers.get('ratelimit-policy'))).toEqual(Array(SUBMISSIONS_PER_MINUTE).fill(`"submit";q=${SUBMISSIONS_PER_MINUTE};w=60`));
    expect(await tasksOf('bob', 'rl_cluster')).toBe(SUBMISSIONS_PER_MINUTE);
  });

  it("counts one owner's open subscriptions across both processes, and frees a slot when one ends", async () => {
    const ws = (api: string, owner: 'alice' | 'bob') => {
      const client = createWsClient({
        url: `${api.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: { authorization: `Bearer ${keys[owner]}` },
      });
      clients.push(client);
      return client;
    };
    const follow = (client: WsClient, id: string) => client.iterate({ query: 'subscription($id: ID!) { taskUpdated(id: $id) { id status } }', variables: { id } });
    const firstResult = async (iterator: AsyncIterableIterator<{ data?: any; errors?: readonly { extensions?: Record<string, unknown> }[] | undefined }>) =>
      iterator.next().then(
        (result) => result.value,
        (errors: unknown) => ({ errors: errors as { extensions?: Record<string, unknown> }[] }),
      );

    // A task of each owner to follow (subscribing is not submitting: the quota above does not matter).
    const { rows } = await pool.query<{ id: string; owner: string }>(`select id, owner from tasklane.tasks where kind = 'rl_cluster' order by owner`);
    const aliceTask = rows.find((r) => r.owner === 'alice')!.id;
    const bobTask = rows.find((r) => r.owner === 'bob')!.id;

    const [onFirst, onSecond] = [ws(apis[0]!, 'alice'), ws(apis[1]!, 'alice')];
    const a1 = follow(onFirst, aliceTask);
    const a2 = follow(onSecond, aliceTask);
    expect((await firstResult(a1))?.data?.taskUpdated).toMatchObject({ id: aliceTask });
    expect((await firstResult(a2))?.data?.taskUpdated).toMatchObject({ id: aliceTask });
    for (const client of [onFirst, onSecond]) {
      const refused = await firstResult(follow(client, aliceTask));
      expect(refused?.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: 5 });
    }
    // Bob's slots are his own.
    const b1 = follow(ws(apis[0]!, 'bob'), bobTask);
    expect((await firstResult(b1))?.data?.taskUpdated).toMatchObject({ id: bobTask });

    // Ending one on the first process lets the second process grant one again.
    await a1.return?.();
    const again = await until('a slot freed on one process to be grantable on the other', async () => {
      const result = await firstResult(follow(onSecond, aliceTask));
      return result?.data ? result : undefined;
    });
    expect(again.data.taskUpdated).toMatchObject({ id: aliceTask });
    await Promise.all([a2.return?.(), b1.return?.()]);
  });
});

import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPool, freePort } from '@tasklane/db';
import { ApiKeyStore } from '@tasklane/db/limits';
import { ANY_KIND, createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Proc, saveLogs, stopAll, until, waitReady } from '../../../test/chaos/processes.ts';
import { untilQuietPartOfMinute } from './rate-limit-clock.ts';

const API_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const SUBMISSIONS_PER_MINUTE = 5;
const SUBSCRIPTIONS = 2;
const SLOT_TTL_SECONDS = 8;
const FOLLOW = 'subscription($id: ID!) { taskUpdated(id: $id) { id status } }';

type Owner = 'alice' | 'bob';
type Result = { data?: any; errors?: readonly { extensions?: Record<string, unknown> }[] | undefined };

const redisUrl = process.env.REDIS_URL;
describeCluster('postgres');
if (redisUrl) describeCluster('redis');
else describe.skip('rate limits across two API processes on the redis store (skipped: set REDIS_URL, e.g. redis://127.0.0.1:6379)', () => {});

/** The first result of a subscription; graphql-ws may also reject with the errors. */
function firstResult(iterator: AsyncIterableIterator<Result>): Promise<Result | undefined> {
  return iterator.next().then(
    (result) => result.value as Result | undefined,
    (errors: unknown) => ({ errors: errors as { extensions?: Record<string, unknown> }[] }),
  );
}

/**
 * Two real API processes on one database, as two replicas behind a load balancer: every limit
 * must hold for an owner's requests combined, wherever they land.
 */
function describeCluster(store: 'postgres' | 'redis'): void {
  describe(`rate limits across two API processes on the ${store} store`, () => {
    let database: TestDatabase;
    let pool: pg.Pool;
    const procs: Proc[] = [];
    let apis: string[] = [];
    const keys: Record<Owner, string> = { alice: '', bob: '' };
    // Owners of this run's own: runs sharing one Redis never share counters.
    const run = randomBytes(4).toString('hex');
    const owners: Record<Owner, string> = { alice: `alice-${run}`, bob: `bob-${run}` };
    const clients: WsClient[] = [];
    const tasks: Partial<Record<Owner, string>> = {};

    beforeAll(async () => {
      database = await createTestDatabase();
      pool = createPool({ connectionString: database.url, max: 2 });
      const keyStore = new ApiKeyStore(pool);
      keys.alice = (await keyStore.create({ owner: owners.alice })).key;
      keys.bob = (await keyStore.create({ owner: owners.bob })).key;
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
            RATE_LIMIT_STORE: store,
            // Short, so a killed process's slot is given back within seconds.
            RATE_LIMIT_SLOT_TTL_SECONDS: String(SLOT_TTL_SECONDS),
            ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
            DATABASE_POOL_SIZE: '4',
            ...ANY_KIND,
          }),
        );
      }
      await Promise.all(apis.map((api) => waitReady(api)));
    }, 120_000);

    afterAll(async () => {
      for (const client of clients) await client.dispose();
      await stopAll(procs);
      if (procs.some((p) => p.exitSignal !== 'SIGKILL' && p.exitCode !== 0)) {
        console.log(`rate-limit cluster: process logs in ${saveLogs(procs, 'rate-limit')}`);
      }
      await pool?.end();
      await database?.drop();
    });

    function submit(api: string, owner: Owner, kind: string) {
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

    function ws(api: string, owner: Owner): WsClient {
      const client = createWsClient({
        url: `${api.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: { authorization: `Bearer ${keys[owner]}` },
      });
      clients.push(client);
      return client;
    }

    function follow(client: WsClient, owner: Owner): AsyncIterableIterator<Result> {
      return client.iterate({ query: FOLLOW, variables: { id: tasks[owner] } });
    }

    /** Subscribes until granted: a slot given back on one process frees a moment later in the store. */
    async function followOnceGranted(client: WsClient, owner: Owner, what: string): Promise<AsyncIterableIterator<Result>> {
      return until(what, async () => {
        const iterator = follow(client, owner);
        return (await firstResult(iterator))?.data ? iterator : undefined;
      });
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
      expect(await tasksOf(owners.alice, 'rl_cluster')).toBe(SUBMISSIONS_PER_MINUTE);

      const bob = await Promise.all(Array.from({ length: SUBMISSIONS_PER_MINUTE }, (_, i) => submit(apis[i % 2]!, 'bob', 'rl_cluster')));
      expect(bob.map((r) => r.status)).toEqual(Array(SUBMISSIONS_PER_MINUTE).fill(202));
      expect(bob.map((r) => r.headers.get('ratelimit-policy'))).toEqual(Array(SUBMISSIONS_PER_MINUTE).fill(`"submit";q=${SUBMISSIONS_PER_MINUTE};w=60`));
      expect(await tasksOf(owners.bob, 'rl_cluster')).toBe(SUBMISSIONS_PER_MINUTE);

      // A task of each owner for the subscription tests (subscribing is not submitting).
      for (const owner of ['alice', 'bob'] as const) {
        const { rows } = await pool.query<{ id: string }>(`select id from tasklane.tasks where owner = $1 limit 1`, [owners[owner]]);
        tasks[owner] = rows[0]!.id;
      }
    });

    it("counts one owner's open subscriptions across both processes, and frees a slot when one ends", async () => {
      const [onFirst, onSecond] = [ws(apis[0]!, 'alice'), ws(apis[1]!, 'alice')];
      const a1 = follow(onFirst, 'alice');
      const a2 = follow(onSecond, 'alice');
      expect((await firstResult(a1))?.data?.taskUpdated).toMatchObject({ id: tasks.alice });
      expect((await firstResult(a2))?.data?.taskUpdated).toMatchObject({ id: tasks.alice });
      for (const client of [onFirst, onSecond]) {
        expect((await firstResult(follow(client, 'alice')))?.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: 5 });
      }
      // Bob's slots are his own.
      const b1 = follow(ws(apis[0]!, 'bob'), 'bob');
      expect((await firstResult(b1))?.data?.taskUpdated).toMatchObject({ id: tasks.bob });

      // Ending one on the first process lets the second process grant one again.
      await a1.return?.();
      const again = await followOnceGranted(onSecond, 'alice', 'a slot freed on one process to be grantable on the other');
      await Promise.all([a2.return?.(), b1.return?.(), again.return?.()]);
    });

    it('stops counting the subscriptions of a killed process once their slots expire', { timeout: 180_000 }, async () => {
      const onFirst = ws(apis[0]!, 'alice');
      const held = await followOnceGranted(onFirst, 'alice', 'a first slot');
      await followOnceGranted(ws(apis[1]!, 'alice'), 'alice', 'a slot on the process about to die');
      expect((await firstResult(follow(onFirst, 'alice')))?.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');

      const dying = procs[1]!;
      dying.kill('SIGKILL');
      await dying.exited;
      // Nobody gave the dead process's slot back: it counts until it expires (SLOT_TTL_SECONDS
      // after its last renewal), then the surviving process grants it again.
      expect((await firstResult(follow(onFirst, 'alice')))?.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
      const revived = await until(
        'the killed process to stop holding a slot',
        async () => {
          const iterator = follow(onFirst, 'alice');
          return (await firstResult(iterator))?.data ? iterator : undefined;
        },
        120_000,
        1_000,
      );
      await Promise.all([held.return?.(), revived.return?.()]);
    });
  });
}

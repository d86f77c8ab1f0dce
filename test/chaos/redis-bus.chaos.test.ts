import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, freePort } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { callAny } from './failover-client.ts';
import { API_MAIN, Proc, saveLogs, stopAll, until, waitReady, WORKER_MAIN } from './processes.ts';
import { redisCommand } from './redis-admin.ts';
import { followSocket, followSse, type Followed } from './subscribers.ts';

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) console.log('Redis bus cluster test skipped: REDIS_URL is not set (e.g. REDIS_URL=redis://127.0.0.1:6379)');

/**
 * EVENT_BUS=redis across real processes: 2 APIs and 2 workers whose only change channel is Redis
 * (the Postgres trigger still NOTIFYs, but nothing listens). Subscribers on both APIs see every
 * task end; a cancel made through one API reaches the worker running the task; and when Redis
 * drops every subscriber connection, the processes resubscribe and resync.
 */
describe.skipIf(!redisUrl)('the cluster on the Redis event bus', () => {
  let database: TestDatabase;
  let pool: ReturnType<typeof createPool>;
  const procs: Proc[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
  });
  afterAll(async () => {
    await stopAll(procs);
    console.log(`redis bus: process logs in ${saveLogs(procs, 'redis-bus')}`);
    await pool?.end();
    await database?.drop();
  });

  it('delivers every change through Redis, cancels running tasks, and resyncs after Redis drops its subscribers', { timeout: 180_000 }, async () => {
    const ports = [await freePort(), await freePort()];
    const apis = ports.map((p) => `http://127.0.0.1:${p}`);
    // The channel (tasklane_task) is shared with any other Tasklane on this Redis; their
    // announcements name ids this database does not have, and are read and dropped.
    const env = {
      DATABASE_URL: database.url,
      EVENT_BUS: 'redis',
      REDIS_URL: redisUrl!,
      MAX_CONCURRENT_TASKS: '20',
      VIDEO_MAX_CONCURRENT: '10',
      IMAGE_MAX_CONCURRENT: '10',
      WORKER_CONCURRENCY: '8',
      LEASE_SECONDS: '5',
    };
    for (const [i, port] of ports.entries()) procs.push(new Proc(`api${i}`, API_MAIN, { ...env, PORT: String(port), LOG_LEVEL: 'error' }));
    for (const i of [0, 1]) procs.push(new Proc(`worker${i}`, WORKER_MAIN, { ...env, LOG_LEVEL: 'info' }));
    await Promise.all(apis.map((base) => waitReady(base)));

    // Nothing reaches the processes through Postgres: none of them LISTENs.
    const { rows: listeners } = await pool.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where application_name = 'tasklane-listen' and datname = current_database()`,
    );
    expect(listeners[0]!.n).toBe(0);

    const stop = new AbortController();
    const tasks: { id: string; expected: string; follow?: Promise<Followed> }[] = [];
    for (let i = 0; i < 80; i++) {
      const fails = i % 7 === 3;
      const input = { duration_seconds: 0.2 + (i % 5) / 10, ...(fails ? { fail: 'content_policy' } : {}) };
      const answer = await callAny(apis, i, 'POST', '/api/v1/tasks', { body: { kind: i % 2 ? 'image' : 'video', input } });
      const id = answer.body.task_id as string;
      tasks.push({ id, expected: fails ? 'failed' : 'completed', ...(i % 4 === 0 ? { follow: (i % 8 ? followSocket : followSse)(apis, i, id, stop.signal) } : {}) });
    }

    // Redis drops the subscriber connections (as a restart or failover would); all must come back.
    const clients = (await redisCommand(redisUrl!, 'CLIENT', 'LIST')).split('\n').filter((l) => l.includes(' name=tasklane-listen '));
    expect(clients.length).toBeGreaterThanOrEqual(4);
    for (const line of clients) await redisCommand(redisUrl!, 'CLIENT', 'KILL', 'ID', /^id=(\d+)/.exec(line)![1]!).catch(() => '');

    // A long task cancelled through one API while it runs: only Redis tells its worker.
    const long = (await callAny(apis, 0, 'POST', '/api/v1/tasks', { body: { kind: 'video', input: { duration_seconds: 600 } } })).body.task_id as string;
    const watching = followSse(apis, 1, long, stop.signal);
    await until('the long task running', async () => ((await callAny(apis, 1, 'GET', `/api/v1/tasks/${long}`)).body.status === 'processing' ? true : undefined));
    expect((await callAny(apis, 0, 'DELETE', `/api/v1/tasks/${long}`)).status).toBe(200);
    await until('the worker aborting the cancelled task', () =>
      procs.some((p) => p.jsonLines().some((l) => l.msg === 'task aborted' && l.taskId === long && l.reason === 'cancelled')) ? true : undefined,
    );
    expect((await watching).last?.status).toBe('cancelled');

    await until('every task finished', async () => {
      const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where status in ('pending', 'processing')`);
      return rows[0]!.n === 0 ? true : undefined;
    }, 120_000, 500);
    const { rows } = await pool.query<{ id: string; status: string }>('select id, status from tasklane.tasks');
    const status = new Map(rows.map((r) => [r.id, r.status]));
    expect(tasks.filter((t) => status.get(t.id) !== t.expected)).toEqual([]);
    const timer = setTimeout(() => stop.abort(), 60_000);
    const seen = await Promise.all(tasks.filter((t) => t.follow).map(async (t) => ({ id: t.id, last: (await t.follow!).last?.status })));
    clearTimeout(timer);
    expect(seen.filter((s) => s.last !== status.get(s.id))).toEqual([]);
    // Back on Redis after the kill: both APIs report their bus connected.
    for (const base of apis) {
      await until(`${base} listening`, async () => (((await (await fetch(`${base}/readyz`)).json()) as { listening?: boolean }).listening ? true : undefined));
    }
    expect(procs.filter((p) => !p.running).map((p) => p.tail())).toEqual([]);
  });
});

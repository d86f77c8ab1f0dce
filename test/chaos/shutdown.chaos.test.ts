import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, freePort } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { callAny } from './failover-client.ts';
import { API_MAIN, Proc, saveLogs, stopAll, until, waitReady, WORKER_MAIN } from './processes.ts';
import { followSocket } from './subscribers.ts';

/**
 * SIGTERM, as a deploy or a scale-down sends it: a worker finishes what it can within its grace
 * period and gives the rest back without spending an attempt; an API replica closes its sockets
 * with 1001 (going away), and its clients carry on at the other replica.
 */
describe('graceful shutdown on SIGTERM', () => {
  let database: TestDatabase;
  let pool: ReturnType<typeof createPool>;
  const procs: Proc[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    env = { DATABASE_URL: database.url, MAX_CONCURRENT_TASKS: '20', VIDEO_MAX_CONCURRENT: '10', IMAGE_MAX_CONCURRENT: '10', LEASE_SECONDS: '5' };
  });
  afterAll(async () => {
    await stopAll(procs);
    console.log(`shutdown: process logs in ${saveLogs(procs, 'shutdown')}`);
    await pool?.end();
    await database?.drop();
  });

  const rows = async (ids: string[]) =>
    (await pool.query<{ id: string; status: string; attempts: number }>('select id, status, attempts from tasklane.tasks where id = any($1::text[])', [ids])).rows;

  it('a worker finishes short tasks and releases long ones without spending their attempt', { timeout: 180_000 }, async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const api = new Proc('api', API_MAIN, { ...env, PORT: String(port), LOG_LEVEL: 'error' });
    const first = new Proc('worker-a', WORKER_MAIN, { ...env, WORKER_CONCURRENCY: '8', LOG_LEVEL: 'info' });
    procs.push(api, first);
    await waitReady(base);

    // Short tasks end within the 20 s grace; long ones cannot and must be handed back.
    const submit = async (duration: number) =>
      (await callAny([base], 0, 'POST', '/api/v1/tasks', { body: { kind: 'image', input: { duration_seconds: duration } } })).body.task_id as string;
    const short = [await submit(3), await submit(3), await submit(4)];
    const long = [await submit(600), await submit(600)];
    await until('all five running on worker-a', async () => {
      const r = await rows([...short, ...long]);
      return r.every((t) => t.status === 'processing') ? true : undefined;
    });

    first.kill('SIGTERM');
    const exit = await first.exited;
    expect(exit.code).toBe(0);
    const after = await rows([...short, ...long]);
    for (const t of after.filter((r) => short.includes(r.id))) expect(t).toMatchObject({ status: 'completed', attempts: 1 });
    // Released: pending again, and the attempt it had spent given back.
    for (const t of after.filter((r) => long.includes(r.id))) expect(t).toMatchObject({ status: 'pending', attempts: 0 });
    expect(first.jsonLines().some((l) => l.msg === 'released unfinished tasks' && l.count === 2)).toBe(true);

    // Another worker picks them up as first attempts.
    const second = new Proc('worker-b', WORKER_MAIN, { ...env, WORKER_CONCURRENCY: '8', LOG_LEVEL: 'info' });
    procs.push(second);
    await until('the long tasks running again', async () => {
      const r = await rows(long);
      return r.every((t) => t.status === 'processing' && t.attempts === 1) ? true : undefined;
    });
    for (const id of long) expect((await callAny([base], 0, 'DELETE', `/api/v1/tasks/${id}`)).status).toBe(200);
    await stopAll([api, second]);
  });

  it('an API closes its WebSockets with 1001 and the clients resume at the other replica', { timeout: 180_000 }, async () => {
    const ports = [await freePort(), await freePort()];
    const apis = ports.map((p) => `http://127.0.0.1:${p}`);
    const [a, b] = ports.map((p, i) => new Proc(`api-${i}`, API_MAIN, { ...env, PORT: String(p), LOG_LEVEL: 'error' }));
    const worker = new Proc('worker', WORKER_MAIN, { ...env, WORKER_CONCURRENCY: '8', LOG_LEVEL: 'info' });
    procs.push(a!, b!, worker);
    await Promise.all(apis.map((base) => waitReady(base)));

    const id = (await callAny(apis, 0, 'POST', '/api/v1/tasks', { body: { kind: 'video', input: { duration_seconds: 8 } } })).body.task_id as string;
    // A raw socket on replica A, to see the close code itself...
    const raw = new WebSocket(`${apis[0]!.replace('http', 'ws')}/ws/tasks/${id}`);
    const firstMessage = new Promise<void>((resolve) => raw.once('message', () => resolve()));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => raw.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    raw.on('error', () => {});
    await firstMessage;
    // ...and a following client that starts on A and must finish on B.
    const stop = new AbortController();
    const following = followSocket(apis, 0, id, stop.signal);
    await until('the task running', async () => ((await rows([id]))[0]?.status === 'processing' ? true : undefined));

    a!.kill('SIGTERM');
    expect(await closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    expect((await a!.exited).code).toBe(0);
    // A stopped replica accepts nothing.
    await expect(fetch(`${apis[0]}/healthz`)).rejects.toThrow();

    const seen = await following;
    expect(seen.closeCodes[0]).toBe(1001);
    expect(seen.closeCodes.at(-1)).toBe(1000);
    expect(seen.last?.status).toBe('completed');
    await stopAll([b!, worker]);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createPool, freePort, startEmbeddedPostgres, withDatabase, type EmbeddedPostgresHandle } from '@tasklane/db';
import { callAny } from './failover-client.ts';
import { API_MAIN, Proc, saveLogs, sleep, stopAll, until, waitReady, WORKER_MAIN } from './processes.ts';
import { followSocket, followSse, type Followed } from './subscribers.ts';

/**
 * The database goes away for 10 seconds under load (a restart, a failover). Meanwhile the API
 * says so (503 with Retry-After, /readyz 503) and nothing exits; afterwards everything resumes by
 * itself: leases are renewed or swept, LISTEN connections come back and resync, and every task
 * still ends as its input asks. A Postgres of its own, since it is stopped and started again.
 */

const TASKS = 150;
const OUTAGE_MS = 10_000;

describe('a 10-second database outage under load', () => {
  let dataDir: string;
  let port: number;
  let postgres: EmbeddedPostgresHandle | undefined;
  let databaseUrl: string;
  const procs: Proc[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'tasklane-outage-'));
    port = await freePort();
    postgres = await startEmbeddedPostgres({ dataDir, port });
    const admin = createClient(postgres.url);
    await admin.connect();
    await admin.query('create database tasklane');
    await admin.end();
    databaseUrl = withDatabase(postgres.url, 'tasklane');
  });
  afterAll(async () => {
    await stopAll(procs);
    console.log(`outage: process logs in ${saveLogs(procs, 'outage')}`);
    await postgres?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while it is away, keeps every process up, and finishes every task after', { timeout: 240_000 }, async () => {
    const apiPorts = [await freePort(), await freePort()];
    const apis = apiPorts.map((p) => `http://127.0.0.1:${p}`);
    const common = {
      DATABASE_URL: databaseUrl,
      MAX_CONCURRENT_TASKS: '20',
      VIDEO_MAX_CONCURRENT: '10',
      IMAGE_MAX_CONCURRENT: '10',
      WORKER_CONCURRENCY: '8',
      // Shorter than the outage: some leases expire while the database is away.
      LEASE_SECONDS: '4',
    };
    for (const [i, p] of apiPorts.entries()) procs.push(new Proc(`api${i}`, API_MAIN, { ...common, PORT: String(p), LOG_LEVEL: 'error' }));
    for (const i of [0, 1]) procs.push(new Proc(`worker${i}`, WORKER_MAIN, { ...common, LOG_LEVEL: 'info' }));
    await Promise.all(apis.map((base) => waitReady(base)));

    // Tasks long enough that many are running when the database stops; every 5th fails.
    const ids: { id: string; kind: string; fails: boolean }[] = [];
    for (let i = 0; i < TASKS; i++) {
      const kind = i % 2 ? 'image' : 'video';
      const fails = i % 5 === 2;
      const input = { prompt: `outage ${i}`, duration_seconds: 0.5 + (i % 10) / 5, ...(fails ? { fail: 'content_policy' } : {}) };
      const answer = await callAny(apis, i, 'POST', '/api/v1/tasks', { body: { kind, input } });
      expect(answer.status).toBe(202);
      ids.push({ id: answer.body.task_id as string, kind, fails });
    }
    const stopFollowing = new AbortController();
    const follows = new Map<string, Promise<Followed>>();
    for (const [i, task] of ids.entries()) {
      if (i % 10 !== 0) continue;
      follows.set(task.id, (i % 20 === 0 ? followSse : followSocket)(apis, i / 10, task.id, stopFollowing.signal));
    }
    const pool = createPool({ connectionString: databaseUrl, max: 1 });
    await until('tasks running', async () => {
      const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where status = 'processing'`);
      return rows[0]!.n >= 5 ? true : undefined;
    });
    await pool.end();

    // The outage.
    await postgres!.stop();
    postgres = undefined;
    const outageEnds = Date.now() + OUTAGE_MS;
    const answers: { what: string; status: number; retryAfter: string | null }[] = [];
    const probe = async (what: string, url: string, init?: RequestInit) => {
      try {
        const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
        await response.text();
        answers.push({ what, status: response.status, retryAfter: response.headers.get('retry-after') });
      } catch (error) {
        answers.push({ what: `${what} (${String(error)})`, status: 0, retryAfter: null });
      }
    };
    while (Date.now() < outageEnds - 1000) {
      for (const base of apis) {
        await probe('readyz', `${base}/readyz`);
        await probe('get', `${base}/api/v1/tasks/${ids[0]!.id}`);
        await probe('submit', `${base}/api/v1/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ kind: 'image', input: { duration_seconds: 0.1 } }),
        });
        await probe('list', `${base}/api/v1/tasks?limit=5`);
        await probe('graphql', `${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: `{ task(id: "${ids[0]!.id}") { id status } }` }),
        });
      }
      await sleep(500);
    }
    const during = procs.filter((p) => !p.running).map((p) => p.tail());
    await sleep(Math.max(0, outageEnds - Date.now()));
    postgres = await startEmbeddedPostgres({ dataDir, port });

    // While it was away: every answer a 503 with Retry-After (GraphQL included), none a 500,
    // and every process still up.
    expect(during).toEqual([]);
    expect(answers.length).toBeGreaterThan(10);
    const wrong = answers.filter((a) => a.status !== 503 || a.retryAfter === null);
    expect(wrong).toEqual([]);

    // Afterwards, by itself: ready again, listening again, and every task at its end.
    await Promise.all(apis.map((base) => waitReady(base, 60_000)));
    for (const base of apis) {
      await until(`${base} listening again`, async () => {
        const ready = (await (await fetch(`${base}/readyz`)).json()) as { listening?: boolean };
        return ready.listening === true ? true : undefined;
      });
    }
    const after = createPool({ connectionString: databaseUrl, max: 1 });
    try {
      await until('every task finished', async () => {
        const { rows } = await after.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where status in ('pending', 'processing')`);
        return rows[0]!.n === 0 ? true : undefined;
      }, 120_000, 500);
      const { rows } = await after.query<{ id: string; status: string; error: { type: string } | null; attempts: number }>(
        'select id, status, error, attempts from tasklane.tasks where id = any($1::text[])',
        [ids.map((t) => t.id)],
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      const off = ids.filter((t) => {
        const row = byId.get(t.id);
        if (t.fails) return row?.status !== 'failed' || row.error?.type !== (t.kind === 'video' ? 'VideoGenerationError' : 'ImageGenerationError');
        return row?.status !== 'completed';
      });
      expect(off.map((t) => `${t.id}: ${JSON.stringify(byId.get(t.id))}`)).toEqual([]);

      // No completion was stored twice, however the outage cut the workers' writes.
      const completions = new Map<string, number>();
      for (const p of procs.filter((p) => p.name.startsWith('worker'))) {
        for (const line of p.jsonLines()) if (line.msg === 'task completed') completions.set(line.taskId as string, (completions.get(line.taskId as string) ?? 0) + 1);
      }
      expect([...completions.values()].filter((n) => n > 1)).toEqual([]);
    } finally {
      await after.end();
    }

    // Subscribers: each saw its task's end, through the outage.
    const timer = setTimeout(() => stopFollowing.abort(), 60_000);
    const seen = await Promise.all([...follows].map(async ([id, follow]) => ({ id, last: (await follow).last?.status })));
    clearTimeout(timer);
    const expected = new Map(ids.map((t) => [t.id, t.fails ? 'failed' : 'completed']));
    expect(seen.filter((s) => s.last !== expected.get(s.id))).toEqual([]);

    // And nothing exited at any point.
    expect(procs.filter((p) => !p.running).map((p) => p.tail())).toEqual([]);
  });
});

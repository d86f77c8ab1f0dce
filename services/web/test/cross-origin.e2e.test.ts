import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPool, TaskStore } from '@tasklane/db';
import { ApiKeyStore } from '@tasklane/db/limits';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { startApiProcess, type ApiProcess } from '@tasklane/client/testing';
import { CHROMIUM, hasChromium, launchBrowser, type Browser } from './browser.ts';
import { startWorkerProcess, type WorkerProcess } from './worker-process.ts';

// A shared 2-core machine can be slow: wait long for conditions, never assert on timing.
const WAIT_MS = 90_000;

if (!hasChromium) console.warn(`cross-origin e2e skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

interface Api {
  base: string;
  ws: string;
  key: string;
}

/**
 * A browser app on its own origin, calling the API on another: the page is served from
 * `http://localhost:<port>` (on ALLOWED_ORIGINS) and, to be refused, from `http://127.0.0.1:<port>`,
 * a different origin for the same server. Both talk to the API at `http://127.0.0.1:<api port>`
 * with AUTH=on, as a real frontend would: fetch with JSON and Authorization, EventSource with a
 * stream token, graphql-ws over a WebSocket.
 */
describe.skipIf(!hasChromium)('a page on another origin in Chromium', { timeout: 3 * WAIT_MS }, () => {
  let db: TestDatabase;
  let pool: ReturnType<typeof createPool>;
  let api: ApiProcess;
  let worker: WorkerProcess;
  let site: Server;
  let browser: Browser;
  let allowedPage: Page;
  let refusedPage: Page;
  let key: string;
  const pageLog: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool({ connectionString: db.url, max: 2 });
    key = (await new ApiKeyStore(pool).create({ owner: 'browser-app' })).key;
    site = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title><p>app</p>'));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const sitePort = (site.address() as AddressInfo).port;
    api = await startApiProcess({
      databaseUrl: db.url,
      env: { AUTH: 'on', ALLOWED_ORIGINS: `http://localhost:${sitePort}`, VIDEO_MAX_CONCURRENT: '4', RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '0' },
    });
    worker = startWorkerProcess(db.url, { VIDEO_MAX_CONCURRENT: '4', WORKER_CONCURRENCY: '4' });
    browser = await launchBrowser();
    const open = async (origin: string) => {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      page.on('console', (message) => pageLog.push(`${origin} ${message.type()}: ${message.text()}`));
      await page.goto(`${origin}/`);
      return page;
    };
    allowedPage = await open(`http://localhost:${sitePort}`);
    refusedPage = await open(`http://127.0.0.1:${sitePort}`);
  }, 240_000);

  afterEach(({ task }) => {
    if (task.result?.state !== 'fail') return;
    console.error(`--- pages\n${pageLog.join('\n')}\n--- api\n${api?.output().slice(-3000)}\n--- worker\n${worker?.output().slice(-3000)}`);
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    await api?.stop();
    await new Promise((resolve) => site?.close(resolve));
    await pool?.end();
    await db?.drop();
  }, 60_000);

  const target = (): Api => ({ base: api.origin, ws: api.wsUrl, key });

  it('submits over REST with JSON and Authorization, and reads Location and ETag', async () => {
    const answer = await allowedPage.evaluate(async ({ base, key }) => {
      const response = await fetch(`${base}/api/v1/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'idempotency-key': 'browser-1' },
        body: JSON.stringify({ kind: 'video', input: { prompt: 'from the browser', duration_seconds: 0.5 } }),
      });
      const body = (await response.json()) as { task_id: string };
      return { status: response.status, location: response.headers.get('location'), etag: response.headers.get('etag'), id: body.task_id };
    }, target());
    expect(answer.status).toBe(202);
    expect(answer.location).toBe(`/api/v1/tasks/${answer.id}`);
    expect(answer.etag).toMatch(/^"/);
  });

  it('follows a task over SSE with a stream token to completion', async () => {
    const statuses = await allowedPage.evaluate(async ({ base, key }) => {
      const auth = { authorization: `Bearer ${key}` };
      const submitted = await fetch(`${base}/api/v1/tasks`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'video', input: { duration_seconds: 1 } }),
      });
      const { task_id: id } = (await submitted.json()) as { task_id: string };
      const grant = await fetch(`${base}/api/v1/tasks/${id}/stream-token`, { method: 'POST', headers: auth });
      const { events_url: url } = (await grant.json()) as { events_url: string };
      return new Promise<string[]>((resolve, reject) => {
        const seen: string[] = [];
        const source = new EventSource(`${base}${url}`);
        source.addEventListener('task', (event) => {
          const status = (JSON.parse((event as MessageEvent<string>).data) as { status: string }).status;
          seen.push(status);
          if (status === 'completed') {
            source.close();
            resolve(seen);
          }
        });
        source.onerror = () => {
          if (source.readyState === EventSource.CLOSED) reject(new Error(`the stream was refused after ${seen.join(', ')}`));
        };
      });
    }, target());
    expect(statuses.at(-1)).toBe('completed');
    expect(statuses).toContain('processing');
  });

  it('cancels a running task with DELETE', async () => {
    const answer = await allowedPage.evaluate(async ({ base, key }) => {
      const auth = { authorization: `Bearer ${key}` };
      const submitted = await fetch(`${base}/api/v1/tasks`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'video', input: { duration_seconds: 120 } }),
      });
      const { task_id: id } = (await submitted.json()) as { task_id: string };
      for (;;) {
        const task = (await (await fetch(`${base}/api/v1/tasks/${id}?wait=5`, { headers: auth })).json()) as { status: string };
        if (task.status === 'processing') break;
      }
      const response = await fetch(`${base}/api/v1/tasks/${id}`, { method: 'DELETE', headers: auth });
      return { status: response.status, body: (await response.json()) as { success: boolean }, id };
    }, target());
    expect(answer.status).toBe(200);
    expect(answer.body.success).toBe(true);
    expect((await new TaskStore(pool).get(answer.id))?.status).toBe('cancelled');
  });

  it('runs a GraphQL query and follows a graphql-ws subscription to the end', async () => {
    const answer = await allowedPage.evaluate(async ({ base, ws, key }) => {
      const graphql = async (query: string, variables: Record<string, unknown>) => {
        const response = await fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ query, variables }),
        });
        return (await response.json()) as { data: Record<string, { id: string; status: string }> };
      };
      const submitted = await graphql('mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id status } }', {
        input: { kind: 'video', input: { duration_seconds: 1 } },
      });
      const id = submitted.data.submitTask!.id;
      const queried = await graphql('query($id: ID!) { task(id: $id) { id status } }', { id });
      const statuses = await new Promise<string[]>((resolve, reject) => {
        const seen: string[] = [];
        const socket = new WebSocket(ws, 'graphql-transport-ws');
        socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }));
        socket.onmessage = (event) => {
          const message = JSON.parse(event.data as string) as { type: string; payload?: { data?: { taskUpdated: { status: string } } } };
          if (message.type === 'connection_ack') {
            socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription($id: ID!) { taskUpdated(id: $id) { status } }', variables: { id } } }));
          } else if (message.type === 'next' && message.payload?.data) {
            seen.push(message.payload.data.taskUpdated.status);
          } else if (message.type === 'complete') {
            socket.close(1000);
            resolve(seen);
          } else if (message.type === 'error') {
            reject(new Error(JSON.stringify(message)));
          }
        };
        socket.onclose = (event) => reject(new Error(`closed with ${event.code} after ${seen.join(', ')}`));
      });
      return { queried: queried.data.task!.id === id, statuses };
    }, target());
    expect(answer.queried).toBe(true);
    expect(answer.statuses.at(-1)).toBe('COMPLETED');
  });

  it('refuses the same calls from an origin that is not on the list', async () => {
    const pending = (await new TaskStore(pool).submit({ kind: 'video', input: { duration_seconds: 120 } }, { owner: 'browser-app' })).task.id;
    const grant = await fetch(`${api.origin}/api/v1/tasks/${pending}/stream-token`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    const { events_url: eventsUrl } = (await grant.json()) as { events_url: string };

    const answer = await refusedPage.evaluate(
      async ({ base, ws, key, pending, eventsUrl }) => {
        const auth = { authorization: `Bearer ${key}` };
        const refused = (call: Promise<Response>) =>
          call.then(
            (response) => `answered ${response.status}`,
            (error: Error) => error.name,
          );
        const submit = await refused(
          fetch(`${base}/api/v1/tasks`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ kind: 'video', input: { prompt: 'refused origin' } }),
          }),
        );
        const read = await refused(fetch(`${base}/api/v1/tasks/${pending}`, { headers: auth }));
        const cancel = await refused(fetch(`${base}/api/v1/tasks/${pending}`, { method: 'DELETE', headers: auth }));
        const query = await refused(
          fetch(`${base}/graphql`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) }),
        );
        const stream = await new Promise<string>((resolve) => {
          const source = new EventSource(`${base}${eventsUrl}`);
          source.addEventListener('task', () => {
            source.close();
            resolve('received an event');
          });
          source.onerror = () => {
            if (source.readyState === EventSource.CLOSED) resolve('closed');
          };
        });
        const socket = await new Promise<string>((resolve) => {
          const s = new WebSocket(ws, 'graphql-transport-ws');
          s.onopen = () => {
            s.close();
            resolve('opened');
          };
          s.onclose = (event) => resolve(`closed ${event.code}`);
        });
        const taskSocket = await new Promise<string>((resolve) => {
          const s = new WebSocket(`${ws.replace(/\/graphql$/, '')}/ws/tasks/${pending}`);
          s.onopen = () => {
            s.close();
            resolve('opened');
          };
          s.onclose = (event) => resolve(`closed ${event.code}`);
        });
        return { submit, read, cancel, query, stream, socket, taskSocket };
      },
      { ...target(), pending, eventsUrl },
    );
    expect(answer).toEqual({ submit: 'TypeError', read: 'TypeError', cancel: 'TypeError', query: 'TypeError', stream: 'closed', socket: 'closed 1006', taskSocket: 'closed 1006' });
    // Refused before anything ran: no task from that page, and the pending one is not cancelled.
    const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where input->>'prompt' = 'refused origin'`);
    expect(rows[0]!.n).toBe(0);
    expect((await new TaskStore(pool).get(pending))?.status).not.toBe('cancelled');
    expect(api.output()).not.toContain('"level":50');
  });
});

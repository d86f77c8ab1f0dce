import type { AddressInfo } from 'node:net';
import { loadConfig } from '@tasklane/core';
import { ANY_KIND, createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createAppContext } from '../src/create-app-context.ts';
import { buildServer } from '../src/server.ts';
import { untilQuietPartOfMinute } from './rate-limit-clock.ts';

interface Server {
  origin: string;
  ctx: Awaited<ReturnType<typeof createAppContext>>;
  ws(): WsClient;
  close(): Promise<void>;
}

const open: Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A real API process's server (in this process) over a fresh database, with the given settings. */
async function startServer(env: Record<string, string>): Promise<Server> {
  const db: TestDatabase = await createTestDatabase();
  const ctx = await createAppContext(loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', ...ANY_KIND, ...env }), db.url, { onLimiterError: () => {} });
  const app = await buildServer(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const clients: WsClient[] = [];
  const server: Server = {
    origin,
    ctx,
    ws() {
      const client = createWsClient({ url: `${origin.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) await client.dispose();
      await app.close();
      await ctx.close();
      await db.drop();
    },
  };
  open.push(server);
  return server;
}

function submitRest(server: Server, kind = 'rl_rest') {
  return fetch(`${server.origin}/api/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind }) });
}

async function gql(server: Server, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(`${server.origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

const SUBMIT = 'mutation($kind: String!) { submitTask(input: { kind: $kind }) { id } }';
const FOLLOW = 'subscription($id: ID!) { taskUpdated(id: $id) { id status } }';

async function slotsHeld(server: Server): Promise<number> {
  const { rows } = await server.ctx.pool.query<{ n: number }>('select count(*)::int as n from tasklane.rate_limit_slots where expires_at > now()');
  return rows[0]!.n;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function countTasks(server: Server, kind: string): Promise<number> {
  const { rows } = await server.ctx.pool.query<{ n: number }>('select count(*)::int as n from tasklane.tasks where kind = $1', [kind]);
  return rows[0]!.n;
}

describe('submission limit', () => {
  it('sends RateLimit headers on every REST submit and answers the one over the quota 429 with Retry-After, storing nothing', async () => {
    const server = await startServer({ RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '3' });
    await untilQuietPartOfMinute();
    const accepted = [await submitRest(server), await submitRest(server), await submitRest(server)];
    expect(accepted.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(accepted.map((r) => r.headers.get('ratelimit-policy'))).toEqual(Array(3).fill('"submit";q=3;w=60'));
    const remaining = accepted.map((r) => /^"submit";r=(\d+);t=(\d+)$/.exec(r.headers.get('ratelimit') ?? ''));
    expect(remaining.map((m) => m?.[1])).toEqual(['2', '1', '0']);

    const refused = await submitRest(server);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit-policy')).toBe('"submit";q=3;w=60');
    expect(refused.headers.get('ratelimit')).toBe(`"submit";r=0;t=${retryAfter}`);
    expect(await refused.json()).toEqual({
      type: 'https://tasklane.dev/problems/rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: `Rate limit exceeded: at most 3 task submissions per minute; retry in ${retryAfter} s`,
      code: 'RATE_LIMITED',
      retry_after: retryAfter,
    });
    expect(await countTasks(server, 'rl_rest')).toBe(3);
  });

  it('counts GraphQL and REST submissions against one quota; over it submitTask fails with RATE_LIMITED and retryAfter', async () => {
    const server = await startServer({ RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '2' });
    await untilQuietPartOfMinute();
    expect((await submitRest(server, 'rl_gql')).status).toBe(202);
    const first = await gql(server, SUBMIT, { kind: 'rl_gql' });
    expect(first.body.errors).toBeUndefined();
    const refused = await gql(server, SUBMIT, { kind: 'rl_gql' });
    // GraphQL over HTTP: a field error is part of a 200 response with data.
    expect(refused.status).toBe(200);
    expect(refused.body.data).toEqual({ submitTask: null });
    expect(refused.body.errors).toHaveLength(1);
    const [error] = refused.body.errors!;
    expect(error!.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    expect(error!.message).toBe(`Rate limit exceeded: at most 2 task submissions per minute; retry in ${error!.extensions!['retryAfter']} s`);
    expect(await countTasks(server, 'rl_gql')).toBe(2);
  });

  it('sends no RateLimit headers and refuses nothing when no limit is set (auth off, the quick start)', async () => {
    const server = await startServer({});
    const responses = await Promise.all(Array.from({ length: 20 }, () => submitRest(server, 'rl_off')));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    expect(responses.some((r) => r.headers.has('ratelimit') || r.headers.has('ratelimit-policy'))).toBe(false);
  });

  it('lets submissions through when the Redis store cannot be reached, without a 5xx', async () => {
    const errors: Error[] = [];
    const db = await createTestDatabase();
    // Port 1: nothing listens, so every limiter call fails at once.
    const config = loadConfig({ DATABASE_URL: db.url, ...ANY_KIND, RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '1', RATE_LIMIT_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:1' });
    const ctx = await createAppContext(config, db.url, { onLimiterError: (error) => errors.push(error) });
    const app = await buildServer(ctx);
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        const response = await app.inject({ method: 'POST', url: '/api/v1/tasks', payload: { kind: 'rl_down' } });
        statuses.push(response.statusCode);
        expect(response.headers['ratelimit']).toBeUndefined();
      }
      expect(statuses).toEqual([202, 202, 202]);
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await app.close();
      await ctx.close();
      await db.drop();
    }
  });
});

describe('subscription limit', () => {
  it('fails a graphql-ws subscription over the limit with RATE_LIMITED, keeps the socket open, and frees the slot when one ends', async () => {
    const server = await startServer({ RATE_LIMIT_SUBSCRIPTIONS: '2' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await gql(server, SUBMIT, { kind: 'rl_sub' })).body.data.submitTask.id as string);
    const client = server.ws();
    const first = client.iterate({ query: FOLLOW, variables: { id: ids[0] } });
    const second = client.iterate({ query: FOLLOW, variables: { id: ids[1] } });
    expect((await first.next()).value?.data?.taskUpdated).toMatchObject({ id: ids[0], status: 'PENDING' });
    expect((await second.next()).value?.data?.taskUpdated).toMatchObject({ id: ids[1], status: 'PENDING' });

    const third = client.iterate({ query: FOLLOW, variables: { id: ids[2] } });
    // graphql-ws delivers a failed subscribe as that operation's result (then completes it), as
    // it does NOT_FOUND; some versions send it as an `error` message, which rejects instead.
    const refusal = await third.next().then(
      (result) => result.value?.errors,
      (errors: unknown) => errors,
    );
    expect((await third.next()).done).toBe(true);
    expect(refusal).toEqual([
      expect.objectContaining({
        message: 'Too many open subscriptions: at most 2 per owner; end one, or retry in 5 s',
        extensions: { code: 'RATE_LIMITED', retryAfter: 5 },
      }),
    ]);
    // Same socket, still open: a query goes through, and the first subscriptions still run.
    const onSameSocket = await client.iterate({ query: '{ task(id: "' + ids[2] + '") { id } }' }).next();
    expect(onSameSocket.value?.data).toEqual({ task: { id: ids[2] } });

    // The client's complete reaches the server, which ends the stream and deletes its slot.
    await first.return?.();
    await until(async () => (await slotsHeld(server)) === 1, 'the first subscription to give its slot back');
    const again = client.iterate({ query: FOLLOW, variables: { id: ids[2] } });
    expect((await again.next()).value?.data?.taskUpdated).toMatchObject({ id: ids[2], status: 'PENDING' });
    await Promise.all([second.return?.(), again.return?.()]);
  });

  it('counts SSE streams and /ws/tasks sockets against the same limit: 429 and close code 4429 over it', async () => {
    const server = await startServer({ RATE_LIMIT_SUBSCRIPTIONS: '2' });
    const id = (await gql(server, SUBMIT, { kind: 'rl_push' })).body.data.submitTask.id as string;
    const sseAbort = new AbortController();
    const sse = await fetch(`${server.origin}/api/v1/tasks/${id}/events`, { signal: sseAbort.signal });
    expect(sse.status).toBe(200);
    const reader = sse.body!.getReader();
    // The first event is the task as it is: by then the stream holds its slot.
    let seen = '';
    while (!seen.includes('event: task')) seen += new TextDecoder().decode((await reader.read()).value);

    const socket = new WebSocket(`${server.origin.replace('http', 'ws')}/ws/tasks/${id}`);
    const firstMessage = new Promise<string>((resolve, reject) => {
      socket.once('message', (data) => resolve(String(data)));
      socket.once('error', reject);
    });
    expect(JSON.parse(await firstMessage)).toMatchObject({ task_id: id, status: 'pending' });

    const refusedSse = await fetch(`${server.origin}/api/v1/tasks/${id}/events`);
    expect(refusedSse.status).toBe(429);
    expect(refusedSse.headers.get('retry-after')).toBe('5');
    expect(await refusedSse.json()).toMatchObject({ code: 'RATE_LIMITED', retry_after: 5 });

    const refusedSocket = new WebSocket(`${server.origin.replace('http', 'ws')}/ws/tasks/${id}`);
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      refusedSocket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    expect(closed).toEqual({ code: 4429, reason: 'Too many open subscriptions: at most 2 per owner; end one, or retry in 5 s' });

    sseAbort.abort();
    await reader.cancel().catch(() => {});
    await until(async () => (await slotsHeld(server)) === 1, 'the closed SSE stream to give its slot back');
    const client = server.ws();
    const follow = client.iterate({ query: FOLLOW, variables: { id } });
    expect((await follow.next()).value?.data?.taskUpdated).toMatchObject({ id });
    await follow.return?.();
    socket.close();
    await until(async () => (await slotsHeld(server)) === 0, 'every slot to be given back');
  });

  it('releases the slot of a subscription whose task does not exist', async () => {
    const server = await startServer({ RATE_LIMIT_SUBSCRIPTIONS: '1' });
    const client = server.ws();
    const missing = await client
      .iterate({ query: FOLLOW, variables: { id: 'vid_00000000000000000000000000' } })
      .next()
      .then(
        (result) => result.value?.errors,
        (errors: unknown) => errors as { extensions?: Record<string, unknown> }[],
      );
    expect(missing?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const id = (await gql(server, SUBMIT, { kind: 'rl_missing' })).body.data.submitTask.id as string;
    const follow = client.iterate({ query: FOLLOW, variables: { id } });
    expect((await follow.next()).value?.data?.taskUpdated).toMatchObject({ id });
    await follow.return?.();
  });
});

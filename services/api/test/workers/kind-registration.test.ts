import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { startApiProcess, type ApiProcess } from '@tasklane/client/testing';

let db: TestDatabase;
let api: ApiProcess;

beforeAll(async () => {
  db = await createTestDatabase();
  // The kinds check on: only a declared kind, or one a worker registered, is accepted.
  api = await startApiProcess({ databaseUrl: db.url, env: { TASK_KINDS: 'declared_only' } });
}, 120_000);
afterAll(async () => {
  await api?.stop();
  await db?.drop();
});

const post = async (path: string, body: unknown) => {
  const response = await fetch(`${api.origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

it('registers the kinds an HTTP worker claims, so their tasks are accepted like an SDK worker’s', async () => {
  const before = await post('/api/v1/tasks', { kind: 'pyonly', input: {} });
  expect(before.status).toBe(400);
  expect(before.body).toMatchObject({ code: 'BAD_USER_INPUT', field: 'kind' });
  const claim = await post('/api/v1/workers/py-1/claim', { kinds: ['pyonly'], max: 1, wait: 0 });
  expect(claim.status).toBe(200);
  // Each API process rereads the registry on a miss at most every 200 ms: accepted soon after.
  let after = await post('/api/v1/tasks', { kind: 'pyonly', input: {} });
  for (let i = 0; after.status !== 202 && i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    after = await post('/api/v1/tasks', { kind: 'pyonly', input: {} });
  }
  expect(after.status).toBe(202);
  // And the worker's next claim gets it: the registered kind is really served.
  const next = await post('/api/v1/workers/py-1/claim', { kinds: ['pyonly'], max: 1, wait: 5 });
  expect((next.body.tasks as { task_id: string }[]).map((t) => t.task_id)).toEqual([after.body.task_id]);
});

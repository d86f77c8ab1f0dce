import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { createTasklaneClient, TasklaneRequestError, type JsonValue, type TasklaneClient } from '../src/index.ts';
import { startApiProcess, type ApiProcess } from '../src/testing/index.ts';

let db: TestDatabase;
let api: ApiProcess;
let client: TasklaneClient;
beforeAll(async () => {
  db = await createTestDatabase();
  // Kinds are checked, as in a deployment: only the declared one is known.
  api = await startApiProcess({ databaseUrl: db.url, env: { TASK_KINDS: 'client_known' } });
  client = createTasklaneClient({ url: api.url });
}, 180_000);
afterAll(async () => {
  await client?.close();
  await api?.stop();
  await db?.drop();
});

async function refusal(promise: Promise<unknown>): Promise<TasklaneRequestError> {
  const error = await promise.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TasklaneRequestError);
  return error as TasklaneRequestError;
}

function nested(depth: number): { a: JsonValue } {
  let value: JsonValue = [];
  for (let i = 1; i < depth; i++) value = [value];
  return { a: value };
}

describe('submit', () => {
  it('rejects a kind no worker serves with BAD_USER_INPUT naming the known kinds', async () => {
    const error = await refusal(client.submit({ kind: 'client_typo' }));
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'kind' });
    expect(error.message).toBe('kind: no worker serves "client_typo" and TASK_KINDS does not declare it; known kinds: client_known');
  });

  it.each([['x'], [[1]], [5], [null]])('rejects input %j with BAD_USER_INPUT naming input', async (input) => {
    const error = await refusal(client.submit({ kind: 'client_known', input: input as never }));
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input' });
    expect(error.message).toMatch(/^input: must be a JSON object/);
  });

  it('rejects an input deeper than MAX_INPUT_DEPTH with the server\'s limit and setting', async () => {
    const error = await refusal(client.submit({ kind: 'client_known', input: nested(40) }));
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input', message: 'input: must nest arrays and objects at most 32 levels deep (MAX_INPUT_DEPTH)' });
  });

  it('rejects 5,000 nested arrays with BAD_USER_INPUT instead of failing to serialize them', async () => {
    const error = await refusal(client.submit({ kind: 'client_known', input: nested(5000) }));
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input' });
    expect(error.message).toBe('input: must nest arrays and objects at most 1000 levels deep (the most MAX_INPUT_DEPTH allows)');
  });

  it('queues a declared kind', async () => {
    expect(await client.submit({ kind: 'client_known', input: { prompt: 'a cat' } })).toMatchObject({ kind: 'client_known', status: 'PENDING' });
  });
});

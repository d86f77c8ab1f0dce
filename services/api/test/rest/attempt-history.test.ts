import { afterAll, beforeAll, expect, it } from 'vitest';
import { WorkerStore } from '@tasklane/db';
import { startRestHarness, TIMESTAMP, uniqueKind, type RestHarness } from './rest-harness.ts';

const GET_KEYS = ['task_id', 'status', 'progress', 'created_at', 'updated_at', 'completed_at', 'result', 'error'];
const CAPS = { total: 1000, perKind: {} };
const ERROR = { type: 'Upstream', message: 'The upstream service answered 503', retryable: true };

let h: RestHarness;
beforeAll(async () => {
  h = await startRestHarness();
});
afterAll(async () => {
  await h.close();
});

/** Two workers; retries due at once, so the second claims right after the first fails. */
const workers = () => [1, 2].map((n) => new WorkerStore(h.ctx.pool, { workerId: `w-api-${n}`, leaseSeconds: 60, retryBaseSeconds: 0 }));

/** A task that failed once on w-api-1 and then completed on w-api-2. */
async function failedOnceThenCompleted(): Promise<string> {
  const kind = uniqueKind('twice');
  const { task } = await h.ctx.store.submit({ kind });
  const [first, second] = workers();
  const [a] = await first!.claim(1, [kind], CAPS);
  await first!.fail({ id: a!.id, attempt: a!.attempts, error: ERROR });
  const [b] = await second!.claim(1, [kind], CAPS);
  await second!.complete([{ id: b!.id, attempt: b!.attempts, result: { ok: true } }]);
  return task.id;
}

it('adds attempt_history to ?view=full and leaves the plain GET body as the seed has it', async () => {
  const id = await failedOnceThenCompleted();
  const plain = (await (await fetch(`${h.baseUrl}/api/v1/tasks/${id}`)).json()) as Record<string, unknown>;
  expect(Object.keys(plain)).toEqual(GET_KEYS);

  const full = (await (await fetch(`${h.baseUrl}/api/v1/tasks/${id}?view=full`)).json()) as { attempt_history: Record<string, unknown>[] };
  expect(Object.keys(full).at(-1)).toBe('attempt_history');
  expect(full.attempt_history).toEqual([
    { attempt: 1, worker: 'w-api-1', started_at: expect.stringMatching(TIMESTAMP), ended_at: expect.stringMatching(TIMESTAMP), outcome: 'failed', error: { type: ERROR.type, message: ERROR.message } },
    { attempt: 2, worker: 'w-api-2', started_at: expect.stringMatching(TIMESTAMP), ended_at: expect.stringMatching(TIMESTAMP), outcome: 'completed', error: null },
  ]);
});

it('answers Task.attemptHistory over GraphQL, and an empty list for a task never claimed', async () => {
  const id = await failedOnceThenCompleted();
  const { task: waiting } = await h.ctx.store.submit({ kind: uniqueKind('waiting') });
  const query = `query ($a: ID!, $b: ID!) {
    a: task(id: $a) { attemptHistory { attempt worker startedAt endedAt outcome error { type message retryable } } }
    b: task(id: $b) { attemptHistory { attempt } }
  }`;
  const response = await fetch(`${h.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables: { a: id, b: waiting.id } }),
  });
  const { data, errors } = (await response.json()) as { data: { a: { attemptHistory: Record<string, unknown>[] }; b: { attemptHistory: unknown[] } }; errors?: unknown };
  expect(errors).toBeUndefined();
  const [first, second] = data.a.attemptHistory;
  expect(first).toMatchObject({ attempt: 1, worker: 'w-api-1', outcome: 'FAILED', error: ERROR });
  expect(second).toMatchObject({ attempt: 2, worker: 'w-api-2', outcome: 'COMPLETED', error: null });
  expect(new Date(first!.endedAt as string).getTime()).toBeLessThanOrEqual(new Date(second!.startedAt as string).getTime());
  expect(data.a.attemptHistory).toHaveLength(2);
  expect(data.b.attemptHistory).toEqual([]);
});

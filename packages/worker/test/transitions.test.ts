import { describe, expect, it } from 'vitest';
import { canTransition, TASK_STATUSES, TaskNotCancellableError, type TaskStatus } from '@tasklane/core';
import { WorkerStore } from '@tasklane/db';
import { taskIn, uncapped, useTestEnv } from './helpers.ts';

const env = useTestEnv();

type Attempted = { refusal: string };

/** Tries to move the task to `to` with the operation that makes that move; says how it was refused. */
async function attempt(holder: WorkerStore, task: { id: string; attempt: number; kind: string }, to: TaskStatus): Promise<Attempted> {
  const held = { id: task.id, attempt: Math.max(1, task.attempt) };
  switch (to) {
    case 'pending':
      return { refusal: `release returned ${await holder.release([held])}` };
    case 'processing':
      return { refusal: `claim returned ${(await holder.claim(1, [task.kind], uncapped)).length} tasks` };
    case 'completed':
      return { refusal: `complete returned ${(await holder.complete([{ ...held, result: { late: true } }])).size} ids` };
    case 'failed':
      return { refusal: `fail returned ${await holder.fail({ ...held, error: { type: 'Late', message: 'late', retryable: false } })}` };
    case 'cancelled':
      try {
        const { alreadyCancelled } = await env.store.cancel(task.id);
        return { refusal: `alreadyCancelled ${alreadyCancelled}` };
      } catch (error) {
        if (error instanceof TaskNotCancellableError) return { refusal: 'TaskNotCancellableError' };
        throw error;
      }
  }
}

/** How each refused move is refused: fencing answers "nothing held", cancel a typed error. */
const REFUSALS: Record<TaskStatus, string> = {
  pending: 'release returned 0',
  processing: 'claim returned 0 tasks',
  completed: 'complete returned 0 ids',
  failed: 'fail returned undefined',
  cancelled: 'TaskNotCancellableError',
};

describe('every status move', () => {
  for (const from of TASK_STATUSES) {
    for (const to of TASK_STATUSES) {
      // pending → failed is in the table for swept tasks, but no store operation makes that move
      // today (a sweep fails processing tasks); fail() on a pending task is refused by fencing.
      const allowed = canTransition(from, to) && !(from === 'pending' && to === 'failed');
      it(`${from} → ${to} is ${allowed ? 'allowed' : 'refused'}`, async () => {
        const holder = new WorkerStore(env.pool, { workerId: `t-${from}-${to}`, leaseSeconds: 30, retryBaseSeconds: 0.05 });
        const task = await taskIn(env, from, holder);
        const before = (await env.store.get(task.id))!;
        expect(before.status).toBe(from);
        const { refusal } = await attempt(holder, task, to);
        const after = (await env.store.get(task.id))!;
        if (allowed) {
          expect(after.status).toBe(to);
          expect(after.version).toBeGreaterThan(before.version);
        } else {
          expect(after).toEqual(before);
          const expected = from === 'cancelled' && to === 'cancelled' ? 'alreadyCancelled true' : REFUSALS[to];
          expect(refusal).toBe(expected);
        }
      });
    }
  }
});

it('a release gives the attempt back; a retryable failure spends it and waits for the backoff', async () => {
  const holder = new WorkerStore(env.pool, { workerId: 't-retry', leaseSeconds: 30, retryBaseSeconds: 0.05 });
  const released = await taskIn(env, 'processing', holder);
  await holder.release([released]);
  expect(await env.store.get(released.id)).toMatchObject({ status: 'pending', attempts: 0, leaseOwner: null });

  const { task } = await env.store.submit({ kind: 't_retry', maxAttempts: 2 });
  const [claimed] = await holder.claim(1, ['t_retry'], uncapped);
  const status = await holder.fail({ id: task.id, attempt: claimed!.attempts, error: { type: 'Flaky', message: 'try again', retryable: true } });
  expect(status).toBe('pending');
  const retried = await env.store.get(task.id);
  expect(retried).toMatchObject({ status: 'pending', attempts: 1, error: { type: 'Flaky' } });
  expect(retried!.runAt.getTime()).toBeGreaterThan(claimed!.runAt.getTime());
});

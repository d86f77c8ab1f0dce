import { ATTEMPT_OUTCOMES, type AttemptOutcome, type TaskAttempt } from '@tasklane/core';
import { attemptHistories } from '@tasklane/db';
import { builder } from './builder.ts';
import type { GraphqlContext } from './context.ts';
import { TaskErrorRef, TaskRef } from './task-type.ts';

const AttemptOutcomeEnum = builder.enumType('AttemptOutcome', {
  description:
    'How an attempt ended. FAILED (an error; retried unless it was the last), LOST (its worker stopped renewing the lease), RELEASED ' +
    '(given back by a stopping worker, without spending an attempt); the last attempt is RUNNING, then COMPLETED, FAILED or CANCELLED.',
  values: Object.fromEntries(ATTEMPT_OUTCOMES.map((outcome) => [outcome.toUpperCase(), { value: outcome }])) as Record<
    Uppercase<AttemptOutcome>,
    { value: AttemptOutcome }
  >,
});

const TaskAttemptRef = builder.objectRef<TaskAttempt>('TaskAttempt').implement({
  description: 'One attempt of a task: the worker that claimed it, when it ran, and how it ended.',
  fields: (t) => ({
    attempt: t.exposeInt('attempt', { description: "The task's attempt count when it ran, from 1; a release does not spend one, so the next claim repeats it." }),
    worker: t.exposeString('worker', { nullable: true, description: 'The worker id; null for attempts claimed before attempts were recorded.' }),
    startedAt: t.field({ type: 'DateTime', resolve: (a) => a.startedAt }),
    endedAt: t.field({ type: 'DateTime', nullable: true, description: 'Null while it runs.', resolve: (a) => a.endedAt }),
    outcome: t.field({ type: AttemptOutcomeEnum, resolve: (a) => a.outcome }),
    error: t.field({ type: TaskErrorRef, nullable: true, resolve: (a) => a.error }),
  }),
});

type Load = (id: string) => Promise<TaskAttempt[]>;
const loaders = new WeakMap<GraphqlContext, Load>();

/** The tasks one operation asks about in the same tick are read in one statement. */
function loadAttempts(ctx: GraphqlContext, id: string): Promise<TaskAttempt[]> {
  let load = loaders.get(ctx);
  if (!load) {
    let batch: { id: string; resolve: (attempts: TaskAttempt[]) => void; reject: (error: unknown) => void }[] = [];
    const flush = () => {
      const current = batch;
      batch = [];
      attemptHistories(ctx.app.pool, current.map((b) => b.id), ctx.scope).then(
        (byTask) => current.forEach((b) => b.resolve(byTask.get(b.id) ?? [])),
        (error: unknown) => current.forEach((b) => b.reject(error)),
      );
    };
    load = (taskId) =>
      new Promise((resolve, reject) => {
        if (batch.length === 0) setImmediate(flush);
        batch.push({ id: taskId, resolve, reject });
      });
    loaders.set(ctx, load);
  }
  return load(id);
}

builder.objectFields(TaskRef, (t) => ({
  attemptHistory: t.field({
    type: [TaskAttemptRef],
    description: 'Every attempt, oldest first (one read of the task row per operation); empty until a worker claims it.',
    resolve: (task, _args, ctx) => loadAttempts(ctx, task.id),
  }),
}));

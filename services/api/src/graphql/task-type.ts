import { TASK_STATUSES, type Task, type TaskErrorInfo, type TaskStatus } from '@tasklane/core';
import { pushedPlace } from '@tasklane/db';
import { presentedMessage } from '../no-worker-message.ts';
import { builder } from './builder.ts';
import { loadQueuePlace, QueuePlaceRef } from './queue-place-type.ts';

/** GraphQL enum names are upper case by convention; their values are the seed's lowercase statuses. */
export const TaskStatusEnum = builder.enumType('TaskStatus', {
  description: 'Where a task is in its lifecycle: PENDING → PROCESSING → COMPLETED, FAILED or CANCELLED.',
  values: Object.fromEntries(TASK_STATUSES.map((status) => [status.toUpperCase(), { value: status }])) as Record<
    Uppercase<TaskStatus>,
    { value: TaskStatus }
  >,
});

export const TaskErrorRef = builder.objectRef<TaskErrorInfo>('TaskError').implement({
  description: 'Why the last attempt of a task failed.',
  fields: (t) => ({
    type: t.exposeString('type', { description: 'The error class, e.g. VideoGenerationError or WorkerLost.' }),
    message: t.exposeString('message'),
    retryable: t.exposeBoolean('retryable', { description: 'Whether the task is (or was) retried after this error.' }),
  }),
});

export const TaskRef = builder.objectRef<Task>('Task');

builder.node(TaskRef, {
  description: 'One unit of long-running work (a video, an image, …) and its current state.',
  id: { resolve: (task) => task.id },
  // Scoped like every other read: another owner's task loads as null, exactly like a missing one.
  loadOne: (id, ctx) => ctx.app.store.get(id, ctx.scope).then((task) => task ?? null),
  fields: (t) => ({
    kind: t.exposeString('kind', { description: 'Selects the handler and the concurrency cap, e.g. video or image.' }),
    service: t.exposeString('service', { nullable: true, description: 'The provider the handler used, e.g. veo3.' }),
    status: t.field({ type: TaskStatusEnum, resolve: (task) => task.status }),
    progress: t.exposeInt('progress', { description: 'Percent done, 0-100.' }),
    message: t.string({
      nullable: true,
      description: 'The latest human-readable message. A PENDING task whose kind no live worker serves says so here.',
      // Synchronous unless pending: a promise here would make every task selection execute asynchronously.
      resolve: (task, _args, ctx) => (task.status === 'pending' ? presentedMessage(ctx.app.kinds, task) : task.message),
    }),
    queue: t.field({
      type: QueuePlaceRef,
      nullable: true,
      description:
        'Where it stands in its queue while pending (one indexed count per pending task asked about); null in every other status.',
      // A queue push carries the place it was pushed for: no read per subscriber.
      resolve: (task, _args, ctx) => (task.status === 'pending' ? (pushedPlace(task)?.place ?? loadQueuePlace(ctx, task)) : null),
    }),
    input: t.field({ type: 'JSON', description: 'What the task was submitted with.', resolve: (task) => task.input }),
    result: t.field({
      type: 'JSON',
      nullable: true,
      description: "The handler's output once the task completed.",
      resolve: (task) => task.result,
    }),
    error: t.field({ type: TaskErrorRef, nullable: true, resolve: (task) => task.error }),
    attempts: t.exposeInt('attempts', { description: 'Attempts started so far (each claim by a worker is one).' }),
    maxAttempts: t.exposeInt('maxAttempts'),
    priority: t.exposeInt('priority', { description: 'Higher runs first.' }),
    runAt: t.field({ type: 'DateTime', description: 'Not started before this time (also carries retry backoff).', resolve: (task) => task.runAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (task) => task.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (task) => task.updatedAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, description: 'When the current attempt started.', resolve: (task) => task.startedAt }),
    completedAt: t.field({ type: 'DateTime', nullable: true, description: 'Set only for completed tasks.', resolve: (task) => task.completedAt }),
    finishedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the task reached any terminal status.',
      resolve: (task) => task.finishedAt,
    }),
    version: t.exposeInt('version', { description: 'Increases with every change; subscriptions deliver strictly increasing versions.' }),
    metadata: t.field({
      type: 'JSON',
      description: 'String keys to string values given at submit (an empty object when none).',
      resolve: (task) => task.metadata,
    }),
    retriedFrom: t.exposeString('retriedFrom', { nullable: true, description: 'The failed or cancelled task this one re-runs (retryTask).' }),
  }),
});

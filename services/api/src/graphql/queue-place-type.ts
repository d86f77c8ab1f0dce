import type { QueuePlace, Task } from '@tasklane/core';
import { queuePlaces } from '@tasklane/db';
import { builder } from './builder.ts';
import type { GraphqlContext } from './context.ts';

export const QueuePlaceRef = builder.objectRef<QueuePlace>('QueuePlace').implement({
  description:
    "A pending task's place in its kind's queue, in the real claim order (priority, then turns among owners). Counts only: nothing of the tasks ahead is shown.",
  fields: (t) => ({
    position: t.exposeInt('position', { nullable: true, description: '1 = the next of its kind to start; null while it is scheduled for later.' }),
    ahead: t.exposeInt('ahead', { nullable: true, description: 'Tasks of its kind that start before it.' }),
    etaSeconds: t.exposeInt('etaSeconds', {
      nullable: true,
      description: 'Seconds until it should start, from recent run times of its kind and the free slots; null while unknown.',
    }),
    waitingFor: t.exposeString('waitingFor', {
      nullable: true,
      description:
        'What holds it: paused while its kind is paused (pauseKind), the cap that is full (VIDEO_MAX_CONCURRENT or another <KIND>_MAX_CONCURRENT, MAX_CONCURRENT_TASKS, OWNER_MAX_CONCURRENT), no_worker when no worker is running, or run_at while it is not due; null when only the tasks ahead hold it.',
    }),
  }),
});

type Load = (task: Task) => Promise<QueuePlace | null>;
const loaders = new WeakMap<GraphqlContext, Load>();

/**
 * The queue place of a pending task; the tasks one operation (or one subscription event) asks
 * about in the same tick are read together, in two statements.
 */
export function loadQueuePlace(ctx: GraphqlContext, task: Task): Promise<QueuePlace | null> {
  let load = loaders.get(ctx);
  if (!load) {
    load = batchedPlaces(ctx);
    loaders.set(ctx, load);
  }
  return load(task);
}

function batchedPlaces(ctx: GraphqlContext): Load {
  let batch: { task: Task; resolve: (place: QueuePlace | null) => void; reject: (error: unknown) => void }[] = [];
  const flush = () => {
    const current = batch;
    batch = [];
    queuePlaces(ctx.app.pool, current.map((b) => b.task), ctx.app.config.caps).then(
      (places) => current.forEach((b) => b.resolve(places.get(b.task.id) ?? null)),
      (error: unknown) => current.forEach((b) => b.reject(error)),
    );
  };
  return (task) =>
    new Promise((resolve, reject) => {
      if (batch.length === 0) setImmediate(flush);
      batch.push({ task, resolve, reject });
    });
}

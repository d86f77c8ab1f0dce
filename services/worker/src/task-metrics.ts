import { Counter, Histogram, Registry } from 'prom-client';
import type { Worker } from '@tasklane/worker';

/** Seconds: from a fraction of a second (images) to an hour (long videos). */
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
const RUN_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * What this worker's tasks spent waiting and running, and how they ended, from its own task
 * events: each worker reports the attempts it ran, so summing over workers counts each attempt
 * once. Labelled by kind and status only: owners are unbounded and never a label.
 */
export function taskMetrics(worker: Worker): Registry {
  const registry = new Registry();
  const queueWait = new Histogram({
    name: 'tasklane_task_queue_wait_seconds',
    help: 'From when a task could first run (its run_at) to the start of the attempt, per attempt.',
    labelNames: ['kind'],
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  const runTime = new Histogram({
    name: 'tasklane_task_run_seconds',
    help: "How long an attempt's handler ran until its outcome was stored or it was cancelled.",
    labelNames: ['kind'],
    buckets: RUN_BUCKETS,
    registers: [registry],
  });
  const finished = new Counter({
    name: 'tasklane_tasks_finished_total',
    help: 'Tasks this worker finished: completed, failed for good, or cancelled while it ran them.',
    labelNames: ['kind', 'status'],
    registers: [registry],
  });
  const running = new Map<string, { kind: string; startedAt: number }>();
  const end = (taskId: string, status?: 'completed' | 'failed' | 'cancelled') => {
    const attempt = running.get(taskId);
    if (!attempt) return;
    running.delete(taskId);
    runTime.observe({ kind: attempt.kind }, (Date.now() - attempt.startedAt) / 1000);
    if (status) finished.inc({ kind: attempt.kind, status });
  };
  worker.onTaskEvent((event) => {
    switch (event.type) {
      case 'started': {
        const startedAt = event.task.startedAt?.getTime() ?? Date.now();
        running.set(event.task.id, { kind: event.task.kind, startedAt });
        queueWait.observe({ kind: event.task.kind }, Math.max(0, startedAt - event.task.runAt.getTime()) / 1000);
        break;
      }
      case 'completed':
        end(event.taskId, 'completed');
        break;
      case 'failed':
        end(event.taskId, event.willRetry ? undefined : 'failed');
        break;
      case 'aborted':
        end(event.taskId, event.reason === 'cancelled' ? 'cancelled' : undefined);
        break;
      case 'dropped':
      case 'released':
        end(event.taskId);
        break;
    }
  });
  return registry;
}

import { TASK_STATUSES, type ConcurrencyCaps, type TaskStatus } from '@tasklane/core';
import type { QueueStats } from '@tasklane/db';
import { builder } from './builder.ts';
import { TaskStatusEnum } from './task-type.ts';

interface CountShape {
  status: TaskStatus;
  kind: string;
  count: number;
}

interface CapacityShape {
  kind: string | null;
  processing: number;
  cap: number;
}

/** What `queueStats` resolves to: the caller's counts and the cluster's running tasks against the caps. */
export interface QueueStatsShape {
  counts: QueueStats['counts'];
  processingByKind: Record<string, number>;
  caps: ConcurrencyCaps;
  oldestPendingAgeSeconds: number | null;
}

const TaskCountRef = builder.objectRef<CountShape>('TaskCount').implement({
  description: 'How many tasks of one kind are in one status.',
  fields: (t) => ({
    status: t.field({ type: TaskStatusEnum, resolve: (c) => c.status }),
    kind: t.exposeString('kind'),
    count: t.exposeInt('count'),
  }),
});

const StatusCountRef = builder.objectRef<{ status: TaskStatus; count: number }>('StatusCount').implement({
  fields: (t) => ({
    status: t.field({ type: TaskStatusEnum, resolve: (c) => c.status }),
    count: t.exposeInt('count'),
  }),
});

const KindCountRef = builder.objectRef<{ kind: string; count: number }>('KindCount').implement({
  fields: (t) => ({ kind: t.exposeString('kind'), count: t.exposeInt('count') }),
});

const CapacityRef = builder.objectRef<CapacityShape>('Capacity').implement({
  description: 'Tasks processing now against a cluster-wide concurrency cap. When they meet, more tasks wait in PENDING.',
  fields: (t) => ({
    kind: t.exposeString('kind', { nullable: true, description: 'The kind the cap applies to; null for MAX_CONCURRENT_TASKS (all kinds).' }),
    processing: t.exposeInt('processing'),
    cap: t.exposeInt('cap'),
  }),
});

export const QueueStatsRef = builder.objectRef<QueueStatsShape>('QueueStats').implement({
  description: 'A snapshot of the queue, for dashboards and for "why is my task still pending?".',
  fields: (t) => ({
    counts: t.field({ type: [TaskCountRef], description: 'Non-zero counts per status and kind.', resolve: (s) => s.counts }),
    byStatus: t.field({
      type: [StatusCountRef],
      description: 'Counts per status, every status listed (zero included).',
      resolve: (s) =>
        TASK_STATUSES.map((status) => ({
          status,
          count: s.counts.filter((c) => c.status === status).reduce((sum, c) => sum + c.count, 0),
        })),
    }),
    byKind: t.field({
      type: [KindCountRef],
      description: 'Counts per kind over all statuses.',
      resolve: (s) => {
        const totals = new Map<string, number>();
        for (const c of s.counts) totals.set(c.kind, (totals.get(c.kind) ?? 0) + c.count);
        return [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([kind, count]) => ({ kind, count }));
      },
    }),
    totalCapacity: t.field({
      type: CapacityRef,
      resolve: (s) => ({
        kind: null,
        processing: Object.values(s.processingByKind).reduce((sum, n) => sum + n, 0),
        cap: s.caps.total,
      }),
    }),
    capacity: t.field({
      type: [CapacityRef],
      description: 'One entry per kind with a configured cap (<KIND>_MAX_CONCURRENT).',
      resolve: (s) =>
        Object.entries(s.caps.perKind)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([kind, cap]) => ({ kind, cap, processing: s.processingByKind[kind] ?? 0 })),
    }),
    oldestPendingAgeSeconds: t.float({
      nullable: true,
      description: 'Age of the oldest pending task in seconds; null when none is pending.',
      resolve: (s) => s.oldestPendingAgeSeconds,
    }),
  }),
});

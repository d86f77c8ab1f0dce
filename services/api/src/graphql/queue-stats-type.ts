import { TASK_STATUSES, type ConcurrencyCaps, type TaskStatus } from '@tasklane/core';
import type { KindStatus, QueueStats } from '@tasklane/db';
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
  /** Every declared or registered kind with its live workers. */
  kinds: KindStatus[];
}

interface KindWorkersShape extends KindStatus {
  pending: number;
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

export const KindWorkersRef = builder.objectRef<KindWorkersShape>('KindWorkers').implement({
  description:
    'A kind and the workers serving it. PENDING tasks of a kind with no live worker wait until one starts; those of a paused kind wait until it is resumed.',
  fields: (t) => ({
    kind: t.exposeString('kind'),
    liveWorkers: t.exposeInt('liveWorkers', { description: 'Worker processes serving this kind now (their lease is current).' }),
    registered: t.exposeBoolean('registered', { description: 'A worker has registered this kind, now or before.' }),
    declared: t.exposeBoolean('declared', { description: 'TASK_KINDS declares this kind.' }),
    pending: t.exposeInt('pending', { description: 'PENDING tasks of this kind (the caller’s own when auth is on).' }),
    paused: t.exposeBoolean('paused', { description: 'Paused (pauseKind): no worker claims its PENDING tasks until resumeKind; running ones finish.' }),
    pausedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it was paused; null while it is not.', resolve: (k) => k.pausedAt }),
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
    kinds: t.field({
      type: [KindWorkersRef],
      description:
        'Every kind a worker has registered or TASK_KINDS declares, and any other kind with pending tasks, with its live workers: "why is my task still pending?" when liveWorkers is 0.',
      resolve: (s) => {
        const pending = new Map<string, number>();
        for (const c of s.counts) if (c.status === 'pending') pending.set(c.kind, c.count);
        const known = new Map(s.kinds.map((k) => [k.kind, k]));
        for (const kind of pending.keys()) if (!known.has(kind)) known.set(kind, { kind, registered: false, declared: false, liveWorkers: 0, paused: false, pausedAt: null });
        return [...known.values()].sort((a, b) => a.kind.localeCompare(b.kind)).map((k) => ({ ...k, pending: pending.get(k.kind) ?? 0 }));
      },
    }),
    oldestPendingAgeSeconds: t.float({
      nullable: true,
      description: 'Age of the oldest pending task in seconds; null when none is pending.',
      resolve: (s) => s.oldestPendingAgeSeconds,
    }),
  }),
});

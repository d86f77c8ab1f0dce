import type pg from 'pg';
import type { Config, Task } from '@tasklane/core';
import { CompletionBatcher, runMaintenance, WorkerStore, type ChangeListener, type Completion, type EventBus, type Held, type TaskStore } from '@tasklane/db';
import { WakeSignal } from './wake-signal.ts';

/** How often a waiting claim looks again without a notification: a NOTIFY is a hint, and retries become runnable by the clock. */
const CLAIM_POLL_MS = 1000;

export interface HeldReport {
  /** Held attempts whose task was cancelled. */
  cancelled: string[];
  /** Held attempts this worker no longer owns for another reason (lease expired, swept, retried elsewhere). */
  lost: string[];
}

export interface HttpWorkersOptions {
  config: Config;
  pool: pg.Pool;
  tasks: TaskStore;
  bus: EventBus;
  /** The bus's publisher when it lives outside Postgres (Redis): hears every write, as TaskStore's does. */
  publish: ChangeListener | undefined;
}

/**
 * The worker protocol's side of one API process: fenced writes through WorkerStore (the same
 * statements the TypeScript SDK runs), claims that wait on the event bus, heartbeats that answer
 * as soon as a held task is cancelled, and the cluster's lease sweep, which a cluster whose
 * workers all speak HTTP would otherwise have no process to run.
 */
export class HttpWorkers {
  readonly leaseSeconds: number;
  private readonly wake: WakeSignal;
  private readonly heartbeatWaiters = new Map<string, () => void>();
  /** Per lease owner: a worker's concurrent completions go out as one statement (one commit). */
  private readonly completions = new Map<string, CompletionBatcher>();
  private maintenance: NodeJS.Timeout | undefined;
  private maintaining: Promise<unknown> | undefined;
  private closed = false;

  constructor(private readonly options: HttpWorkersOptions) {
    this.leaseSeconds = options.config.leaseSeconds;
    // Work may have become claimable: a task is pending, or one finished and freed room under a cap.
    this.wake = new WakeSignal(options.bus, (change) => change.status !== 'processing');
  }

  /** The lease owner of worker `workerId` under a key: keyed so that one key's workers can never write another's tasks. */
  static leaseOwner(keyId: string | null, workerId: string): string {
    return keyId === null ? `http:${workerId}` : `http:${keyId}:${workerId}`;
  }

  store(leaseOwner: string): WorkerStore {
    this.startMaintenance();
    return new WorkerStore(this.options.pool, { workerId: leaseOwner, leaseSeconds: this.leaseSeconds, onChanges: this.options.publish });
  }

  /**
   * Completes an attempt; false when the worker no longer holds it. Completions of one worker
   * arriving together share one statement, as the SDK's do: one commit per task would cap a worker
   * at the commits per second the database can make.
   */
  complete(store: WorkerStore, completion: Completion): Promise<boolean> {
    let batcher = this.completions.get(store.workerId);
    if (!batcher) {
      batcher = new CompletionBatcher({ write: (batch) => store.complete(batch) });
      this.completions.set(store.workerId, batcher);
    }
    const held = batcher.add(completion);
    // After the batch's own bookkeeping has run, so an idle worker's batcher is not kept.
    const forget = () =>
      setImmediate(() => {
        if (batcher.size === 0 && this.completions.get(store.workerId) === batcher) this.completions.delete(store.workerId);
      });
    held.then(forget, forget);
    return held;
  }

  /** Claims up to `max` tasks; with none runnable, waits up to `waitSeconds` for some, waking on the bus. */
  async claim(store: WorkerStore, max: number, kinds: readonly string[], waitSeconds: number, signal: AbortSignal): Promise<Task[]> {
    const deadline = Date.now() + waitSeconds * 1000;
    // The kinds a worker claims are the kinds it serves: registered (with its lease) like the
    // TypeScript SDK's, so submits of those kinds are accepted and their pending tasks are not
    // reported as having no live worker.
    await store.register(kinds);
    for (;;) {
      // Taken before the claim, so a change that lands while it runs still wakes the next round.
      const woken = this.wake.next();
      const tasks = await store.claim(max, kinds, this.options.config.caps);
      const left = deadline - Date.now();
      if (tasks.length > 0 || left <= 0 || signal.aborted || this.closed) return tasks;
      await woken.wait(Math.min(left, CLAIM_POLL_MS), signal);
      if (signal.aborted) return [];
    }
  }

  /**
   * Renews the worker's lease and reports held attempts it lost; gives back tasks it holds without
   * knowing (claimed over a lease ago, not listed). With nothing lost, waits up to
   * `waitSeconds` for a change to one of them (a cancel, a sweep) and reports then, so a cancel
   * reaches the worker at once rather than at its next heartbeat. A newer heartbeat of the same
   * worker answers the older one (empty) at once: it watches the newer set of tasks.
   */
  async heartbeat(store: WorkerStore, held: readonly Held[], waitSeconds: number, signal: AbortSignal): Promise<HeldReport> {
    let lost = await store.heartbeat(held);
    // A claim older than a lease that the worker does not list: its answer never reached the worker.
    await store.releaseUnlisted(held, this.leaseSeconds);
    if (lost.length > 0 || waitSeconds <= 0 || this.closed) return this.classify(lost);
    const ids = new Set(held.map((h) => h.id));
    const owner = store.workerId;
    const superseded = new AbortController();
    this.heartbeatWaiters.get(owner)?.();
    const supersede = () => superseded.abort();
    this.heartbeatWaiters.set(owner, supersede);
    const watch = new WakeSignal(this.options.bus, (change) => ids.has(change.id) && change.status !== 'processing');
    const stop = AbortSignal.any([signal, superseded.signal]);
    const deadline = Date.now() + waitSeconds * 1000;
    try {
      while (!stop.aborted && !this.closed) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const woke = await watch.next().wait(left, stop);
        if (!woke) break;
        lost = await store.heartbeat(held);
        if (lost.length > 0) break;
      }
    } finally {
      watch.close();
      if (this.heartbeatWaiters.get(owner) === supersede) this.heartbeatWaiters.delete(owner);
    }
    return this.classify(lost);
  }

  private async classify(lost: string[]): Promise<HeldReport> {
    if (lost.length === 0) return { cancelled: [], lost: [] };
    const tasks = await this.options.tasks.getMany(lost);
    const cancelled = new Set(tasks.filter((t) => t.status === 'cancelled').map((t) => t.id));
    return { cancelled: lost.filter((id) => cancelled.has(id)), lost: lost.filter((id) => !cancelled.has(id)) };
  }

  /** The lease sweep and retention, on the SDK's schedule; one process in the cluster wins each round. */
  private startMaintenance(): void {
    if (this.maintenance || this.closed) return;
    const { config, pool, publish } = this.options;
    const intervalMs = Math.min(5000, this.leaseSeconds * 500);
    this.maintenance = setInterval(() => {
      if (this.maintaining) return;
      this.maintaining = runMaintenance(pool, { retentionHours: config.taskRetentionHours, onChanges: publish })
        .catch(() => {
          // The database is away: the next round tries again, and so does every other process.
        })
        .finally(() => (this.maintaining = undefined));
    }, intervalMs);
    this.maintenance.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.maintenance);
    for (const supersede of this.heartbeatWaiters.values()) supersede();
    this.wake.close();
    await this.maintaining;
  }
}

import type pg from 'pg';
import type { JsonValue, Task, TaskStatus } from '@tasklane/core';
import {
  CompletionBatcher,
  createPool,
  PgEventBus,
  runMaintenance,
  statementHealth,
  usesNamedStatements,
  WorkerStore,
  type EventBus,
  type Held,
  type TaskChange,
} from '@tasklane/db';
import type { AbortCause } from './abort-reason.ts';
import { Backoff, sleep } from './backoff.ts';
import { ClaimLoop } from './claim-loop.ts';
import { toDefinition, type HandlerDefinition } from './handler.ts';
import { errorFields, type Logger } from './logger.ts';
import { startPeriodic, type Periodic } from './periodic.ts';
import { RunningTask } from './running-task.ts';
import { TaskError, timeoutError, toErrorInfo } from './task-error.ts';
import type { TaskEvent, TaskEventListener } from './task-events.ts';
import { runInAttempt, TaskTracing, type AttemptTrace } from './task-tracing.ts';
import { resolveOptions, type ResolvedOptions, type WorkerOptions } from './worker-options.ts';

export interface StopOptions {
  /**
   * Overrides the worker's `graceMs` for this stop. Calling `stop` again while stopping can
   * shorten the grace (a second Ctrl-C: `{ graceMs: 0 }` releases running tasks at once), never lengthen it.
   */
  graceMs?: number;
}

export interface Worker {
  readonly id: string;
  /** Tasks held right now (running, or storing their outcome). */
  readonly running: number;
  /** Starts listening, heartbeating and claiming. Never throws for an unreachable database. */
  start(): Promise<void>;
  /**
   * Stops claiming, lets running tasks finish within the grace period, then aborts the rest
   * (reason `shutdown`) and gives them back to pending without spending their attempt.
   */
  stop(options?: StopOptions): Promise<void>;
  onTaskEvent(listener: TaskEventListener): () => void;
  /**
   * Whether this worker can do its work: not ready when its claims, heartbeats or outcome writes
   * have failed every time for longer than a lease (the database is away, or a pooler refuses
   * its statements), with the cause. Serve it as a readiness check.
   */
  health(): WorkerHealth;
}

export interface WorkerHealth {
  ready: boolean;
  /** Why it is not ready: the statement, for how long, and its last error. */
  cause?: string;
  /** False once the statements run unnamed (`DATABASE_PREPARED_STATEMENTS=off`, or `auto` behind a pooler). */
  namedStatements: boolean;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export function createWorker(options: WorkerOptions): Worker {
  return new TasklaneWorker(options);
}

class TasklaneWorker implements Worker {
  readonly id: string;
  private readonly settings: ResolvedOptions;
  private readonly log: Logger;
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly bus: EventBus | undefined;
  private readonly ownsBus: boolean;
  private readonly store: WorkerStore;
  private readonly publishChanges: WorkerOptions['onChanges'];
  private readonly definitions: Map<string, HandlerDefinition>;
  private readonly held = new Map<string, RunningTask>();
  private readonly listeners = new Set<TaskEventListener>();
  private readonly claimLoop: ClaimLoop;
  private readonly batcher: CompletionBatcher;
  private readonly tracing: TaskTracing | undefined;
  private readonly busCleanup: (() => void)[] = [];
  private readonly busStopper = new AbortController();
  private heartbeat: Periodic | undefined;
  private maintenance: Periodic | undefined;
  private heldChanged: (() => void) | undefined;
  private handlersRunning = 0;
  private started = false;
  private stopping: Promise<void> | undefined;
  /** When the running tasks' grace ends; a second `stop` can bring it closer. */
  private graceDeadline = Infinity;
  /** Set when the grace period is over: outcome writes stop retrying. */
  private forced = false;

  constructor(options: WorkerOptions) {
    this.settings = resolveOptions(options);
    this.id = this.settings.workerId;
    this.log = this.settings.logger;
    this.definitions = new Map(Object.entries(options.handlers).map(([kind, handler]) => [kind, toDefinition(handler)]));
    if (this.definitions.size === 0) throw new TypeError('createWorker: give at least one handler');
    if (!options.pool && !options.connectionString) throw new TypeError('createWorker: give a pool or a connectionString');
    this.ownsPool = !options.pool;
    this.pool =
      options.pool ??
      createPool({ connectionString: options.connectionString!, applicationName: 'tasklane-worker', statements: { onUnnamed: (message) => this.log.warn(message) } });
    const connectionString = options.connectionString ?? options.pool?.options.connectionString;
    if (options.bus === false) {
      this.bus = undefined;
    } else if (options.bus) {
      this.bus = options.bus;
    } else if (connectionString) {
      this.bus = new PgEventBus({
        connectionString,
        onError: (error) => this.log.warn('event bus connection lost; reconnecting', errorFields(error)),
      });
    } else {
      this.log.warn('no connection string for LISTEN; polling only');
    }
    this.ownsBus = this.bus !== undefined && options.bus === undefined;
    this.store = new WorkerStore(this.pool, {
      workerId: this.id,
      leaseSeconds: this.settings.leaseSeconds,
      retryBaseSeconds: this.settings.retryBaseSeconds,
      kinds: [...this.definitions.keys()],
      onChanges: options.onChanges,
    });
    this.publishChanges = options.onChanges;
    const kinds = [...this.definitions.keys()];
    const tracing = options.tracing ? new TaskTracing((ids) => this.store.traceParents(ids)) : undefined;
    this.tracing = tracing;
    this.claimLoop = new ClaimLoop({
      claim: tracing
        ? async (max) => {
            const tasks = await this.store.claim(max, kinds, this.settings.caps);
            await tracing.claimed(tasks);
            return tasks;
          }
        : (max) => this.store.claim(max, kinds, this.settings.caps),
      // A slot is a running handler. Outcomes still being stored do not hold one (so the next
      // claim overlaps the completion write), but at most `concurrency` of them may pile up.
      freeSlots: () => Math.min(this.settings.concurrency - this.handlersRunning, 2 * this.settings.concurrency - this.held.size),
      onClaimed: (tasks) => {
        for (const task of tasks) this.startTask(task);
      },
      onClaimedAfterStop: async (tasks) => {
        try {
          await this.store.release(tasks.map((task) => ({ id: task.id, attempt: task.attempts })));
        } catch (error) {
          this.log.error('could not give back tasks claimed while stopping; the lease sweep will retry them', errorFields(error));
        }
      },
      pollIntervalMs: this.settings.pollIntervalMs,
      log: this.log,
    });
    this.batcher = new CompletionBatcher({ write: (batch) => this.store.complete(batch) });
  }

  get running(): number {
    return this.held.size;
  }

  health(): WorkerHealth {
    const cause = statementHealth(this.pool).problem(this.settings.leaseSeconds * 1000);
    return { ready: cause === undefined, ...(cause === undefined ? {} : { cause }), namedStatements: usesNamedStatements(this.pool) };
  }

  onTaskEvent(listener: TaskEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.bus) {
      this.busCleanup.push(
        this.bus.onChanges((changes) => this.onChanges(changes), WANTED_CHANGES),
        // Notifications sent while disconnected are gone: look for work and re-check leases.
        this.bus.onReconnect(() => this.claimLoop.wake()),
      );
      if (this.ownsBus) await this.startBus();
    }
    const { leaseSeconds, maintenanceIntervalMs } = this.settings;
    // Registers this worker's kinds at once: the API refuses kinds no worker has registered.
    // While the database is away the periodic heartbeat registers them once it is back.
    await this.beat().catch((error: unknown) => this.log.warn('cannot register the worker yet; the heartbeat will retry', errorFields(error)));
    this.heartbeat = startPeriodic('heartbeat', (leaseSeconds * 1000) / 3, () => this.beat(), this.log);
    if (maintenanceIntervalMs > 0) this.maintenance = startPeriodic('maintenance', maintenanceIntervalMs, () => this.maintain(), this.log);
    this.claimLoop.start();
    this.log.info('worker started', {
      workerId: this.id,
      kinds: [...this.definitions.keys()],
      concurrency: this.settings.concurrency,
      leaseSeconds,
    });
  }

  /** The first connection is tried here; if the database is away, keep trying in the background. */
  private async startBus(): Promise<void> {
    const bus = this.bus!;
    const backoff = new Backoff(250, 5000);
    const attempt = async (): Promise<boolean> => {
      try {
        await bus.start();
        return true;
      } catch (error) {
        this.log.warn('cannot LISTEN yet; polling meanwhile', errorFields(error));
        return false;
      }
    };
    if (await attempt()) return;
    void (async () => {
      while (!this.busStopper.signal.aborted) {
        await sleep(backoff.next(), this.busStopper.signal);
        if (this.busStopper.signal.aborted || (await attempt())) return;
      }
    })();
  }

  private onChanges(changes: TaskChange[]): void {
    let newWork = false;
    for (const change of changes) {
      if (change.status === 'pending') newWork = true;
      else if (change.status === 'cancelled') this.abortTask(change.id, undefined, 'cancelled');
    }
    if (newWork) this.claimLoop.wake();
  }

  private abortTask(id: string, attempt: number | undefined, cause: AbortCause): void {
    const entry = this.held.get(id);
    if (!entry || (attempt !== undefined && entry.attempt !== attempt)) return;
    if (entry.abort(cause)) {
      entry.log.info('task aborted', { reason: cause });
      this.emit({ type: 'aborted', taskId: id, attempt: entry.attempt, reason: cause });
    }
  }

  private startTask(task: Task): void {
    const definition = this.definitions.get(task.kind);
    if (!definition) return; // cannot happen: claims ask only for handled kinds
    // Our own earlier attempt of this task, swept and claimed again before we noticed.
    this.abortTask(task.id, undefined, 'lease_lost');
    const entry = new RunningTask(task, definition, this.id, (held, update) => this.store.progress(held, update.percent, update.message), this.log);
    entry.trace = this.tracing?.startAttempt(task, this.id);
    this.held.set(task.id, entry);
    if (this.listeners.size > 0) this.emit({ type: 'started', task });
    void this.run(entry);
  }

  /** Runs the handler and stores its outcome; the task is let go at the end, whatever happened. */
  private async run(entry: RunningTask): Promise<void> {
    try {
      let outcome: Outcome;
      this.handlersRunning++;
      try {
        const result = runInAttempt(entry.trace, () => entry.definition.run(entry.task, entry.ctx));
        const limitMs = this.settings.timeoutsMs.get(entry.task.kind);
        outcome = { ok: true, value: await (limitMs === undefined ? result : this.withinLimit(entry, result, limitMs)) };
      } catch (error) {
        outcome = { ok: false, error };
      } finally {
        this.handlersRunning--;
      }
      entry.phase = 'settling';
      this.claimLoop.wake();
      await this.settle(entry, outcome);
    } finally {
      // Here rather than in a .finally() on the call: one promise and closure fewer per task.
      if (this.held.get(entry.id) === entry) this.held.delete(entry.id);
      entry.phase = 'done';
      this.heldChanged?.();
      this.claimLoop.wake();
    }
  }

  /**
   * The handler's result, or a retryable `Timeout` failure once it runs past its limit. A handler
   * that ignores its aborted signal is not waited for: the attempt fails at the limit, and what it
   * returns later is dropped.
   */
  private withinLimit(entry: RunningTask, result: unknown, limitMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.abortTask(entry.id, entry.attempt, 'timeout');
        reject(timeoutError(limitMs / 1000));
      }, limitMs);
      Promise.resolve(result).then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** Stores the outcome, retrying through database outages; fencing decides whether it counts. */
  private settle(entry: RunningTask, outcome: Outcome): Promise<void> {
    // Not async itself: untraced, the write's own promise is the answer, with none wrapped round it.
    if (!entry.trace || !this.tracing) return this.settleUntraced(entry, outcome);
    return this.settleTraced(this.tracing, entry.trace, entry, outcome);
  }

  private async settleTraced(tracing: TaskTracing, trace: AttemptTrace, entry: RunningTask, outcome: Outcome): Promise<void> {
    try {
      await tracing.settle(trace, entry.task, () => this.settleUntraced(entry, outcome));
    } finally {
      tracing.end(trace, { aborted: entry.abortCause, error: outcome.ok ? undefined : toErrorInfo(outcome.error) });
    }
  }

  private async settleUntraced(entry: RunningTask, outcome: Outcome): Promise<void> {
    const last = entry.closeProgress();
    const cause = entry.abortCause;
    // A timeout is the one abort the worker records itself, as a failure of this attempt.
    if (cause && cause !== 'timeout') {
      // Cancelled or taken away: the store would refuse the write anyway. At shutdown, stop()
      // releases the task instead.
      if (cause !== 'shutdown') this.emit({ type: 'dropped', taskId: entry.id, attempt: entry.attempt });
      return;
    }
    // Made when a write first fails: nearly every outcome is stored on the first try.
    let backoff: Backoff | undefined;
    let failingSince: number | undefined;
    for (;;) {
      try {
        await this.write(entry, outcome, last?.percent);
        return;
      } catch (error) {
        if (this.forced || (entry.abortCause && entry.abortCause !== 'timeout')) return;
        const delay = (backoff ??= new Backoff(100, 5000)).next();
        failingSince ??= Date.now();
        entry.log.warn('storing the outcome failed; retrying', { ...errorFields(error), failingForMs: Date.now() - failingSince, retryInMs: delay });
        await sleep(delay);
      }
    }
  }

  private async write(entry: RunningTask, outcome: Outcome, lastProgress: number | undefined): Promise<void> {
    const { id, attempt } = entry.held;
    if (outcome.ok) {
      const resultJson = asJson(outcome.value);
      if (resultJson === INVALID) {
        outcome = { ok: false, error: new TaskError({ type: 'InvalidResult', message: 'The handler returned a value that cannot be stored as JSON' }) };
      } else {
        const held = await this.batcher.add({ id, attempt, result: outcome.value as JsonValue, resultJson, service: entry.service });
        if (held) {
          // The base logger with the task's fields, as entry.log would add them (without making it).
          this.log.debug('task completed', { taskId: id, kind: entry.task.kind, attempt });
          if (this.listeners.size > 0) this.emit({ type: 'completed', taskId: id, attempt });
        } else {
          this.emit({ type: 'dropped', taskId: id, attempt });
        }
        return;
      }
    }
    const error = toErrorInfo(outcome.error);
    const status = await this.store.fail({ id, attempt, error, ...(lastProgress !== undefined ? { progress: lastProgress } : {}) });
    if (status === undefined) {
      this.emit({ type: 'dropped', taskId: id, attempt });
      return;
    }
    entry.log.info(status === 'pending' ? 'task failed; will retry' : 'task failed', { errorType: error.type, error: error.message });
    this.emit({ type: 'failed', taskId: id, attempt, error, willRetry: status === 'pending' });
  }

  /** One statement renews every lease; tasks it reports as no longer ours are aborted. */
  private async beat(): Promise<void> {
    const held: Held[] = [];
    for (const entry of this.held.values()) if (entry.phase !== 'done' && !entry.abortCause) held.push(entry.held);
    const lost = await this.store.heartbeat(held);
    if (lost.length === 0) return;
    const cancelled = await this.store.cancelledAmong(lost);
    const attempts = new Map(held.map((h) => [h.id, h.attempt]));
    for (const id of lost) this.abortTask(id, attempts.get(id), cancelled.has(id) ? 'cancelled' : 'lease_lost');
  }

  private async maintain(): Promise<void> {
    const outcome = await runMaintenance(this.pool, {
      retentionHours: this.settings.retentionHours,
      retryBaseSeconds: this.settings.retryBaseSeconds,
      onChanges: this.publishChanges,
    });
    if (outcome.elected && outcome.requeued + outcome.failed + outcome.deleted > 0) this.log.info('maintenance', { ...outcome });
  }

  stop(options: StopOptions = {}): Promise<void> {
    const graceMs = options.graceMs ?? this.settings.graceMs;
    const deadline = Date.now() + graceMs;
    if (this.stopping) {
      if (deadline < this.graceDeadline) {
        this.graceDeadline = deadline;
        this.log.info('worker stop hurried', { running: this.held.size, graceMs });
        this.heldChanged?.();
      }
      return this.stopping;
    }
    this.graceDeadline = deadline;
    this.stopping = this.shutdown(graceMs);
    return this.stopping;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.log.info('worker stopping', { running: this.held.size, graceMs });
    await this.claimLoop.stop();
    await this.maintenance?.stop();
    await this.waitForIdle(() => this.graceDeadline);

    const interrupted = [...this.held.values()].filter((entry) => entry.phase === 'running' && !entry.abortCause);
    for (const entry of interrupted) this.abortTask(entry.id, entry.attempt, 'shutdown');
    this.forced = true;
    if (interrupted.length > 0) {
      try {
        await this.store.release(interrupted.map((entry) => entry.held));
        for (const entry of interrupted) this.emit({ type: 'released', taskId: entry.id, attempt: entry.attempt });
        this.log.info('released unfinished tasks', { count: interrupted.length });
      } catch (error) {
        this.log.error('could not release unfinished tasks; the lease sweep will retry them', errorFields(error));
      }
    }
    // Outcomes being written finish their current statement; handlers that ignore the signal are abandoned.
    const writing = [...this.held.values()].filter((entry) => entry.phase === 'settling');
    // A write in flight finishes its statement: a hurried stop still gives it a second.
    const writesDeadline = Date.now() + Math.max(Math.min(graceMs, this.graceDeadline - Date.now()), 1000);
    if (writing.length > 0) await this.waitForIdle(() => writesDeadline, () => writing.every((entry) => entry.phase === 'done'));

    await this.heartbeat?.stop();
    this.busStopper.abort();
    for (const cleanup of this.busCleanup) cleanup();
    if (this.ownsBus) await this.bus?.close();
    try {
      await this.store.unregister();
    } catch (error) {
      this.log.warn('could not unregister the worker', errorFields(error));
    }
    if (this.ownsPool) await this.pool.end().catch(() => {});
    this.log.info('worker stopped', { workerId: this.id });
  }

  /** Waits until `idle`, or until the deadline, which may move closer meanwhile (a hurried stop). */
  private async waitForIdle(deadline: () => number, idle: () => boolean = () => this.held.size === 0): Promise<void> {
    while (!idle()) {
      const left = deadline() - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.heldChanged = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.heldChanged = undefined;
    }
  }

  private emit(event: TaskEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log.error('task event listener threw', errorFields(error));
      }
    }
  }
}

/** What `onChanges` acts on; the claims and completions the whole cluster announces it ignores. */
const WANTED_CHANGES: ReadonlySet<TaskStatus> = new Set(['pending', 'cancelled']);

const INVALID = Symbol('invalid');

/** The handler's return value as JSON text (undefined becomes null), or INVALID when it cannot be stored. */
function asJson(value: unknown): string | typeof INVALID {
  if (value === undefined) return 'null';
  try {
    return JSON.stringify(value) ?? INVALID;
  } catch {
    return INVALID;
  }
}

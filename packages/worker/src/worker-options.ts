import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { loadConfig, MAX_TASK_TIMEOUT_SECONDS, type ConcurrencyCaps, type Config } from '@tasklane/core';
import type { ChangeListener, EventBus } from '@tasklane/db';
import { toDefinition, type Handler } from './handler.ts';
import { silentLogger, type Logger } from './logger.ts';

export interface WorkerOptions {
  /** The pool to use; the worker does not end it. Give this or `connectionString`. */
  pool?: pg.Pool;
  /**
   * Where the database is. Without `pool`, the worker opens (and at stop ends) a pool of its own.
   * Also used for the LISTEN connection. @default the pool's connection string
   */
  connectionString?: string;
  /** One handler per task kind; the worker claims only these kinds. */
  handlers: Record<string, Handler>;
  /** Tasks this worker runs at once. @default WORKER_CONCURRENCY (10) */
  concurrency?: number;
  /** Seconds a claim holds a task without a heartbeat; heartbeats run every third of it. @default LEASE_SECONDS (30) */
  leaseSeconds?: number;
  /** Cluster-wide caps, per kind and in total. @default MAX_CONCURRENT_TASKS and the `<KIND>_MAX_CONCURRENT` settings */
  caps?: ConcurrencyCaps;
  /**
   * Seconds one attempt of a kind may run, by kind; overrides the handler's `timeoutSeconds`.
   * @default the `<KIND>_TIMEOUT_SECONDS` settings
   */
  timeouts?: Record<string, number>;
  /** How often to look for work without a notification (a NOTIFY is only a hint). @default 1000 */
  pollIntervalMs?: number;
  /** How long `stop()` lets running tasks finish before releasing them. @default 20000 */
  graceMs?: number;
  /** First retry delay of a failed task (doubling per attempt, with jitter). @default 1 */
  retryBaseSeconds?: number;
  /** Terminal tasks older than this are deleted by maintenance. @default TASK_RETENTION_HOURS (24) */
  retentionHours?: number;
  /**
   * How often to attempt cluster maintenance (lease sweep, retention); one process wins each
   * round. 0 turns it off in this worker. @default half the lease, at most 5000
   */
  maintenanceIntervalMs?: number;
  /** Listens for new work and cancels. `false` polls only. @default a PgEventBus on `connectionString` */
  bus?: EventBus | false;
  /**
   * Hears every change this worker's writes commit (claims, progress, outcomes, releases, sweeps).
   * Needed only for a bus outside Postgres (Redis): pass its `publish`. LISTEN/NOTIFY needs
   * nothing, the database trigger announces changes itself.
   */
  onChanges?: ChangeListener;
  /**
   * Trace each attempt as a child of its submit's span (OpenTelemetry). Turn it on when the process
   * has registered a tracer provider (`startTracing` does when OTEL_EXPORTER_OTLP_ENDPOINT is set);
   * it costs one read of the stored trace contexts per claimed batch. @default false
   */
  tracing?: boolean;
  /** Names this worker in leases and logs. @default `<host>-<pid>-<random>` */
  workerId?: string;
  /** @default silent */
  logger?: Logger;
}

export interface ResolvedOptions {
  concurrency: number;
  leaseSeconds: number;
  caps: ConcurrencyCaps;
  /** Milliseconds one attempt may run, by kind; kinds without a limit are absent. */
  timeoutsMs: Map<string, number>;
  pollIntervalMs: number;
  graceMs: number;
  retryBaseSeconds: number;
  retentionHours: number;
  maintenanceIntervalMs: number;
  workerId: string;
  logger: Logger;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`createWorker: ${name} must be a whole number of at least 1, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`createWorker: ${name} must be a number of at least 0, got ${value}`);
  return value;
}

/** Fills defaults from the environment's configuration, read only if some option is missing. */
export function resolveOptions(options: WorkerOptions): ResolvedOptions {
  let config: Config | undefined;
  const env = () => (config ??= loadConfig());
  const leaseSeconds = positiveInteger('leaseSeconds', options.leaseSeconds ?? env().leaseSeconds);
  return {
    concurrency: positiveInteger('concurrency', options.concurrency ?? env().workerConcurrency),
    leaseSeconds,
    caps: options.caps ?? env().caps,
    timeoutsMs: resolveTimeouts(options, options.timeouts ?? env().taskTimeouts),
    pollIntervalMs: positiveInteger('pollIntervalMs', options.pollIntervalMs ?? 1000),
    graceMs: nonNegative('graceMs', options.graceMs ?? 20_000),
    retryBaseSeconds: nonNegative('retryBaseSeconds', options.retryBaseSeconds ?? 1),
    retentionHours: nonNegative('retentionHours', options.retentionHours ?? env().taskRetentionHours),
    maintenanceIntervalMs: nonNegative('maintenanceIntervalMs', options.maintenanceIntervalMs ?? Math.min(5000, leaseSeconds * 500)),
    workerId: options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
    logger: options.logger ?? silentLogger,
  };
}

/** Each handled kind's limit: the `timeouts` option or setting, else the handler's own. */
function resolveTimeouts(options: WorkerOptions, configured: Record<string, number>): Map<string, number> {
  const limits = new Map<string, number>();
  for (const [kind, handler] of Object.entries(options.handlers)) {
    const seconds = configured[kind] ?? toDefinition(handler).timeoutSeconds;
    if (seconds === undefined) continue;
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_TASK_TIMEOUT_SECONDS) {
      throw new RangeError(`createWorker: the time limit of kind "${kind}" must be a number of seconds above 0 and up to ${MAX_TASK_TIMEOUT_SECONDS}, got ${seconds}`);
    }
    limits.set(kind, seconds * 1000);
  }
  return limits;
}

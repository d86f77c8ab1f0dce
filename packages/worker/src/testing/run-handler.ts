import { newTaskId, type JsonValue, type Task, type TaskErrorInfo, type TaskMetadata } from '@tasklane/core';
import { TaskAbortedError, type AbortCause } from '../abort-reason.ts';
import { toDefinition, type Handler, type TaskContext } from '../handler.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { NO_SPAN } from '../task-tracing.ts';
import { timeoutError, toErrorInfo } from '../task-error.ts';

export interface RunHandlerOptions {
  kind?: string;
  input?: JsonValue;
  /** The task's metadata. @default {} */
  metadata?: TaskMetadata;
  /** @default 1 */
  attempt?: number;
  /** @default 3 */
  maxAttempts?: number;
  /** Seconds before `ctx.signal` aborts with reason `timeout`, as the worker would. @default the handler's `timeoutSeconds` */
  timeoutSeconds?: number;
  /** @default silent */
  logger?: Logger;
}

export interface ProgressReport {
  percent: number;
  message: string | undefined;
}

/** What the worker would store for this attempt. */
export type HandlerOutcome =
  | { status: 'completed'; result: unknown; service: string | null }
  /** `willRetry`: the worker would put the task back to pending for another attempt. */
  | { status: 'failed'; error: TaskErrorInfo; willRetry: boolean }
  /** The signal fired for a cancel, a lost lease or a shutdown: the worker would store nothing. */
  | { status: 'dropped'; reason: AbortCause };

export interface HandlerRun {
  readonly task: Task;
  /** Every `ctx.progress` call, in order (the worker coalesces them; here none is dropped). */
  readonly progress: readonly ProgressReport[];
  /** Fires `ctx.signal` as a cancel (or another cause) would. */
  abort(reason?: AbortCause): void;
  readonly outcome: Promise<HandlerOutcome>;
}

/**
 * Runs a handler once, in memory, with a context that behaves like the worker's: no database and
 * no API, for a handler's unit tests. The worker's own behaviour (claims, leases, retries) is
 * tested against Postgres in this package.
 */
export function runHandler(handler: Handler, options: RunHandlerOptions = {}): HandlerRun {
  const definition = toDefinition(handler);
  const kind = options.kind ?? 'test';
  const now = new Date();
  const attempt = options.attempt ?? 1;
  const maxAttempts = options.maxAttempts ?? 3;
  const task: Task = {
    id: newTaskId(kind),
    kind,
    service: definition.service ?? null,
    owner: 'default',
    status: 'processing',
    progress: 0,
    message: null,
    input: options.input ?? null,
    result: null,
    error: null,
    priority: 0,
    runAt: now,
    attempts: attempt,
    maxAttempts,
    leaseOwner: 'test-worker',
    idempotencyKey: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
    startedAt: now,
    completedAt: null,
    finishedAt: null,
    metadata: options.metadata ?? {},
    retriedFrom: null,
  };
  const progress: ProgressReport[] = [];
  const controller = new AbortController();
  let service = definition.service ?? null;
  let settled = false;
  const abort = (reason: AbortCause) => {
    if (!settled && !controller.signal.aborted) controller.abort(new TaskAbortedError(reason, task.id));
  };
  const ctx: TaskContext = {
    progress: (percent, message) => {
      if (!settled && !controller.signal.aborted) progress.push({ percent, message });
    },
    signal: controller.signal,
    attempt,
    workerId: 'test-worker',
    span: NO_SPAN,
    log: options.logger ?? silentLogger,
    setService: (name) => {
      service = name;
    },
  };
  const timeoutSeconds = options.timeoutSeconds ?? definition.timeoutSeconds;

  const outcome = (async (): Promise<HandlerOutcome> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_resolve, reject) => {
      if (timeoutSeconds === undefined) return;
      timer = setTimeout(() => {
        abort('timeout');
        reject(timeoutError(timeoutSeconds));
      }, timeoutSeconds * 1000);
    });
    let result: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      result = { ok: true, value: await Promise.race([definition.run(task, ctx), limit]) };
    } catch (error) {
      result = { ok: false, error };
    } finally {
      clearTimeout(timer);
      settled = true;
    }
    const cause = (controller.signal.reason as TaskAbortedError | undefined)?.reason;
    if (cause && cause !== 'timeout') return { status: 'dropped', reason: cause };
    if (result.ok && cause !== 'timeout') {
      if (!storable(result.value)) {
        return { status: 'failed', error: { type: 'InvalidResult', message: 'The handler returned a value that cannot be stored as JSON', retryable: false }, willRetry: false };
      }
      return { status: 'completed', result: result.value ?? null, service };
    }
    const error = toErrorInfo(result.ok ? timeoutError(timeoutSeconds ?? 0) : result.error);
    return { status: 'failed', error, willRetry: error.retryable && attempt < maxAttempts };
  })();

  return { task, progress, abort: (reason = 'cancelled') => abort(reason), outcome };
}

function storable(value: unknown): boolean {
  try {
    return JSON.stringify(value ?? null) !== undefined;
  } catch {
    return false;
  }
}

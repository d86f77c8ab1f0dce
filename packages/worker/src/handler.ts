import type { Span } from '@opentelemetry/api';
import type { Task } from '@tasklane/core';
import type { Logger } from './logger.ts';

/** What a handler gets besides its task. */
export interface TaskContext {
  /**
   * Reports progress (0-100) and optionally a human message. Cheap to call often: calls are
   * coalesced into a few writes per second, and the last value lands.
   */
  progress(percent: number, message?: string): void;
  /**
   * Fires when the task is cancelled, when this worker loses its lease, when the task runs past
   * its time limit, or at shutdown after the grace period; `signal.reason` is a `TaskAbortedError`
   * whose `reason` says which (`cancelled`, `lease_lost`, `timeout`, `shutdown`). Stop work
   * promptly: once it fires, whatever the handler returns or throws is dropped.
   */
  readonly signal: AbortSignal;
  /** 1 on the first run, 2 on the first retry, and so on. */
  readonly attempt: number;
  readonly workerId: string;
  /** A logger whose lines carry the task id, kind and attempt. */
  readonly log: Logger;
  /**
   * This attempt's `process` span (OpenTelemetry), active while the handler runs: spans the handler
   * starts become its children. A span that records nothing when the worker does not trace.
   */
  readonly span: Span;
  /** Names the provider that did the work (shown as `result.service`); overrides the handler's `service`. */
  setService(service: string): void;
}

/**
 * Runs one task. The returned value becomes the task's result; it must survive JSON.stringify
 * (`undefined` is stored as null), else the task fails with `InvalidResult`. Throw a `TaskError`
 * to fail with a chosen type; anything else thrown counts as a retryable failure named after the
 * error. (Typed `unknown` so that object literals with optional fields need no casts.)
 */
export type HandlerFn = (task: Task, ctx: TaskContext) => unknown;

export interface HandlerDefinition {
  /** The provider this handler uses, stored as the task's `service` (e.g. `veo3`). */
  service?: string;
  /**
   * Seconds one attempt may run. Past it `ctx.signal` aborts (reason `timeout`) and the attempt
   * fails, retryably, with error type `Timeout`. `<KIND>_TIMEOUT_SECONDS` and the worker's
   * `timeouts` option override it. @default no limit
   */
  timeoutSeconds?: number;
  run: HandlerFn;
}

export type Handler = HandlerFn | HandlerDefinition;

export function toDefinition(handler: Handler): HandlerDefinition {
  return typeof handler === 'function' ? { run: handler } : handler;
}

import type { Span } from '@opentelemetry/api';
import type { Task } from '@tasklane/core';
import type { Held } from '@tasklane/db';
import { TaskAbortedError, type AbortCause } from './abort-reason.ts';
import type { HandlerDefinition, TaskContext } from './handler.ts';
import { withFields, type Logger } from './logger.ts';
import { ProgressCoalescer, type ProgressUpdate } from './progress-coalescer.ts';
import { NO_SPAN, type AttemptTrace } from './task-tracing.ts';

export type Phase = 'running' | 'settling' | 'done';

export type ProgressWriter = (held: Held, update: ProgressUpdate) => Promise<boolean>;

/**
 * One attempt of one task held by this worker, from claim until its outcome is stored. A worker
 * holds hundreds of these at a time and starts thousands a second, so what a handler may never
 * use (its abort controller, progress coalescer and logger) is made on first use.
 */
export class RunningTask {
  readonly held: Held;
  readonly ctx: TaskContext;
  phase: Phase = 'running';
  service: string | null;
  /** Set when the worker traces. */
  trace: AttemptTrace | undefined;
  private controller: AbortController | undefined;
  private abortedWith: TaskAbortedError | undefined;
  private coalescer: ProgressCoalescer | undefined;
  private logger: Logger | undefined;

  constructor(
    readonly task: Task,
    readonly definition: HandlerDefinition,
    readonly workerId: string,
    private readonly writeProgress: ProgressWriter,
    private readonly baseLog: Logger,
  ) {
    this.held = { id: task.id, attempt: task.attempts };
    this.service = definition.service ?? null;
    this.ctx = new HandlerContext(this);
  }

  get id(): string {
    return this.held.id;
  }

  get attempt(): number {
    return this.held.attempt;
  }

  /** A logger whose lines carry the task id, kind and attempt. */
  get log(): Logger {
    return (this.logger ??= withFields(this.baseLog, { taskId: this.task.id, kind: this.task.kind, attempt: this.task.attempts }));
  }

  /** The handler's signal; aborted already if the task was aborted before the handler asked. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith);
    }
    return this.controller.signal;
  }

  /** Why the handler was stopped, if it was. */
  get abortCause(): AbortCause | undefined {
    return this.abortedWith?.reason;
  }

  /** Aborts the handler; true when this call did it (it was running and not yet aborted). */
  abort(cause: AbortCause): boolean {
    if (this.phase !== 'running' || this.abortedWith) return false;
    this.abortedWith = new TaskAbortedError(cause, this.id);
    this.controller?.abort(this.abortedWith);
    return true;
  }

  reportProgress(percent: number, message?: string): void {
    this.coalescer ??= new ProgressCoalescer({ write: (update) => this.writeProgress(this.held, update), log: this.log });
    this.coalescer.report(percent, message);
  }

  /** Stops progress writes; returns the last progress the handler reported, if any. */
  closeProgress(): ProgressUpdate | undefined {
    return this.coalescer?.close();
  }
}

/**
 * What the handler sees of its RunningTask. The functions are bound: handlers may destructure them.
 * They are made on first use, as the rest of a RunningTask is: most handlers never call them.
 */
class HandlerContext implements TaskContext {
  private boundProgress: ((percent: number, message?: string) => void) | undefined;
  private boundSetService: ((service: string) => void) | undefined;

  constructor(private readonly entry: RunningTask) {}

  get progress(): (percent: number, message?: string) => void {
    return (this.boundProgress ??= (percent, message) => this.entry.reportProgress(percent, message));
  }

  get signal(): AbortSignal {
    return this.entry.signal;
  }

  get attempt(): number {
    return this.entry.attempt;
  }

  get workerId(): string {
    return this.entry.workerId;
  }

  get log(): Logger {
    return this.entry.log;
  }

  get span(): Span {
    return this.entry.trace?.span ?? NO_SPAN;
  }

  get setService(): (service: string) => void {
    return (this.boundSetService ??= (service) => {
      this.entry.service = service;
    });
  }
}

import type { Task } from '@tasklane/core';
import type { Held } from '@tasklane/db';
import { TaskAbortedError, type AbortCause } from './abort-reason.ts';
import type { HandlerDefinition, TaskContext } from './handler.ts';
import { withFields, type Logger } from './logger.ts';
import { ProgressCoalescer, type ProgressUpdate } from './progress-coalescer.ts';

export type Phase = 'running' | 'settling' | 'done';

/** One attempt of one task held by this worker, from claim until its outcome is stored. */
export class RunningTask {
  readonly held: Held;
  readonly controller = new AbortController();
  readonly progress: ProgressCoalescer;
  readonly ctx: TaskContext;
  readonly log: Logger;
  phase: Phase = 'running';
  service: string | null;

  constructor(
    readonly task: Task,
    readonly definition: HandlerDefinition,
    workerId: string,
    writeProgress: (held: Held, update: ProgressUpdate) => Promise<boolean>,
    log: Logger,
  ) {
    this.held = { id: task.id, attempt: task.attempts };
    this.service = definition.service ?? null;
    this.log = withFields(log, { taskId: task.id, kind: task.kind, attempt: task.attempts });
    this.progress = new ProgressCoalescer({ write: (update) => writeProgress(this.held, update), log: this.log });
    this.ctx = {
      progress: (percent, message) => this.progress.report(percent, message),
      signal: this.controller.signal,
      attempt: task.attempts,
      workerId,
      log: this.log,
      setService: (service: string) => {
        this.service = service;
      },
    };
  }

  get id(): string {
    return this.held.id;
  }

  get attempt(): number {
    return this.held.attempt;
  }

  /** Why the handler was stopped, if it was. */
  get abortCause(): AbortCause | undefined {
    const reason: unknown = this.controller.signal.reason;
    return this.controller.signal.aborted && reason instanceof TaskAbortedError ? reason.reason : undefined;
  }

  /** Aborts the handler; true when this call did it (it was running and not yet aborted). */
  abort(cause: AbortCause): boolean {
    if (this.phase !== 'running' || this.controller.signal.aborted) return false;
    this.controller.abort(new TaskAbortedError(cause, this.id));
    return true;
  }
}

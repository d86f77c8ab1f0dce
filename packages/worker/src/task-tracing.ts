import { context, INVALID_SPAN_CONTEXT, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { TRACE_ATTRIBUTES, TRACER_NAME, type Task } from '@tasklane/core';

/** What a handler's `ctx.span` is when tracing is off: records nothing, costs nothing. */
export const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** One attempt's trace: its `process` span, and the context the handler runs in. */
export interface AttemptTrace {
  span: Span;
  context: Context;
}

/**
 * The worker's half of a task's trace. Each attempt is a `process <kind>` span whose parent is the
 * submit's `send` span (its context was stored with the task), so one trace runs from the submit
 * request through every attempt to the completion. The stored contexts are read in one query per
 * claimed batch, and only when tracing is on: off, none of this runs.
 */
export class TaskTracing {
  private readonly parents = new Map<string, string>();
  private readonly tracer = trace.getTracer(TRACER_NAME);

  constructor(private readonly loadParents: (ids: readonly string[]) => Promise<Map<string, string>>) {}

  /** Reads the stored trace contexts of tasks just claimed. A failure only loses the link. */
  async claimed(tasks: readonly Task[]): Promise<void> {
    if (tasks.length === 0) return;
    try {
      for (const [id, parent] of await this.loadParents(tasks.map((t) => t.id))) this.parents.set(id, parent);
    } catch {
      // The tasks still run; their spans start traces of their own.
    }
  }

  startAttempt(task: Task, workerId: string): AttemptTrace {
    const traceparent = this.parents.get(task.id);
    this.parents.delete(task.id);
    const parent = traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      `process ${task.kind}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [TRACE_ATTRIBUTES.system]: 'tasklane',
          [TRACE_ATTRIBUTES.operationType]: 'process',
          [TRACE_ATTRIBUTES.destination]: task.kind,
          [TRACE_ATTRIBUTES.messageId]: task.id,
          [TRACE_ATTRIBUTES.attempt]: task.attempts,
          [TRACE_ATTRIBUTES.workerId]: workerId,
        },
      },
      parent,
    );
    return { span, context: trace.setSpan(parent, span) };
  }

  /** Runs the outcome's write inside a `settle <kind>` span, a child of the attempt's. */
  settle<T>(attempt: AttemptTrace, task: Task, write: () => Promise<T>): Promise<T> {
    return this.tracer.startActiveSpan(
      `settle ${task.kind}`,
      { kind: SpanKind.CLIENT, attributes: { [TRACE_ATTRIBUTES.system]: 'tasklane', [TRACE_ATTRIBUTES.operationType]: 'settle', [TRACE_ATTRIBUTES.messageId]: task.id } },
      attempt.context,
      async (span) => {
        try {
          return await write();
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  /** Ends the attempt's span with how it ended. */
  end(attempt: AttemptTrace, outcome: { error?: { type: string; message: string } | undefined; aborted?: string | undefined }): void {
    if (outcome.aborted) attempt.span.setAttribute(TRACE_ATTRIBUTES.aborted, outcome.aborted);
    if (outcome.error) {
      attempt.span.setAttribute(TRACE_ATTRIBUTES.errorType, outcome.error.type);
      attempt.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
    }
    attempt.span.end();
  }
}

/** Runs `fn` with the attempt's span active, so spans the handler starts are its children. */
export function runInAttempt<T>(attempt: AttemptTrace | undefined, fn: () => T): T {
  return attempt ? context.with(attempt.context, fn) : fn();
}

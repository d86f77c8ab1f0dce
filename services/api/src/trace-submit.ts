import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { TRACE_ATTRIBUTES, TRACER_NAME, type Task } from '@tasklane/core';
import { isTracing } from '@tasklane/telemetry';

type Headers = Record<string, string | string[] | undefined>;

/**
 * Runs a submit inside a `send <kind>` span (messaging conventions, PRODUCER) that continues the
 * request's incoming `traceparent`, and hands the submit that span's own traceparent to store
 * with the task: the worker's spans for each attempt become its children. Without tracing it is
 * just the submit.
 */
export async function tracedSubmit<R extends { task: Task }>(headers: Headers, kind: unknown, submit: (traceParent: string | undefined) => Promise<R>): Promise<R> {
  if (!isTracing()) return submit(undefined);
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const destination = typeof kind === 'string' ? kind : 'unknown';
  const span = trace.getTracer(TRACER_NAME).startSpan(
    `send ${destination}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [TRACE_ATTRIBUTES.system]: 'tasklane',
        [TRACE_ATTRIBUTES.operationType]: 'send',
        [TRACE_ATTRIBUTES.operationName]: 'submit',
        [TRACE_ATTRIBUTES.destination]: destination,
      },
    },
    parent,
  );
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), carrier);
  try {
    const result = await submit(carrier['traceparent']);
    span.setAttribute(TRACE_ATTRIBUTES.messageId, result.task.id);
    return result;
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

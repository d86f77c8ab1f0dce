import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskError } from '../src/index.ts';
import { useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SUBMIT_SPAN = '00f067aa0ba902b7';
const traceParent = `00-${TRACE_ID}-${SUBMIT_SPAN}-01`;

const spansOf = (taskId: string) => exporter.getFinishedSpans().filter((s) => s.attributes['messaging.message.id'] === taskId);

describe('a tracing worker', () => {
  it("runs each attempt as a child of the submit's span, with the handler's spans below it and the write after it", async () => {
    await env.worker({
      tracing: true,
      handlers: {
        traced: async (_task, ctx) => {
          // The handler's own span, started the ordinary way: the attempt's span is active.
          await trace.getTracer('user-code').startActiveSpan('render frames', async (span) => span.end());
          ctx.span.setAttribute('user.note', 'seen');
          return { ok: true };
        },
      },
    });
    const { task } = await env.store.submit({ kind: 'traced', traceParent });
    const [processSpan, settle] = await waitFor(() => {
      const mine = spansOf(task.id);
      const p = mine.find((s) => s.name === 'process traced');
      const st = mine.find((s) => s.name === 'settle traced');
      return p && st ? [p, st] : undefined;
    });
    expect(processSpan.spanContext().traceId).toBe(TRACE_ID);
    expect(processSpan.parentSpanContext?.spanId).toBe(SUBMIT_SPAN);
    expect(processSpan.kind).toBe(SpanKind.CONSUMER);
    expect(processSpan.attributes).toMatchObject({
      'messaging.system': 'tasklane',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'traced',
      'tasklane.task.attempt': 1,
      'user.note': 'seen',
    });
    const child = exporter.getFinishedSpans().find((s) => s.name === 'render frames');
    expect(child?.parentSpanContext?.spanId).toBe(processSpan.spanContext().spanId);
    expect(child?.spanContext().traceId).toBe(TRACE_ID);
    expect(settle.parentSpanContext?.spanId).toBe(processSpan.spanContext().spanId);
    expect((await env.store.get(task.id))!.status).toBe('completed');
  });

  it('marks a failed attempt with its error type, one span per attempt in the same trace', async () => {
    let runs = 0;
    await env.worker({
      tracing: true,
      handlers: {
        flaky: () => {
          runs++;
          if (runs === 1) throw new TaskError({ type: 'Transient', message: 'try again', retryable: true });
          return { ok: true };
        },
      },
    });
    const { task } = await env.store.submit({ kind: 'flaky', traceParent, maxAttempts: 2 });
    const attempts = await waitFor(() => {
      const mine = spansOf(task.id).filter((s) => s.name === 'process flaky');
      return mine.length === 2 ? mine : undefined;
    });
    const [first, second] = attempts.sort((a, b) => Number(a.attributes['tasklane.task.attempt']) - Number(b.attributes['tasklane.task.attempt']));
    expect(first!.attributes['error.type']).toBe('Transient');
    expect(first!.status.code).toBe(2);
    expect(second!.attributes['error.type']).toBeUndefined();
    for (const span of attempts) expect(span.parentSpanContext?.spanId).toBe(SUBMIT_SPAN);
  });

  it('starts a trace of its own for a task submitted without one', async () => {
    await env.worker({ tracing: true, handlers: { untraced: () => null } });
    const { task } = await env.store.submit({ kind: 'untraced' });
    const span = await waitFor(() => spansOf(task.id).find((s) => s.name === 'process untraced'));
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe(TRACE_ID);
  });
});

describe('a worker without tracing', () => {
  it('records no span, and gives the handler a span that records nothing', async () => {
    let recording: boolean | undefined;
    await env.worker({
      handlers: {
        plain: (_task, ctx) => {
          recording = ctx.span.isRecording();
          return null;
        },
      },
    });
    const { task } = await env.store.submit({ kind: 'plain', traceParent });
    await waitFor(async () => (await env.store.get(task.id))?.status === 'completed');
    expect(recording).toBe(false);
    expect(spansOf(task.id)).toHaveLength(0);
  });
});

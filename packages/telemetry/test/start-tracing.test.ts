import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { isTracing, startTracing } from '../src/index.ts';

describe('startTracing', () => {
  it('registers nothing when no OTLP endpoint is set', () => {
    expect(startTracing('t', {})).toBeUndefined();
    expect(isTracing()).toBe(false);
    expect(trace.getTracer('t').startSpan('x').isRecording()).toBe(false);
  });

  it('registers a recording tracer with an endpoint, and unregisters it at shutdown', async () => {
    const tracing = startTracing('t', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    expect(tracing).toBeDefined();
    expect(isTracing()).toBe(true);
    const span = trace.getTracer('t').startSpan('x');
    expect(span.isRecording()).toBe(true);
    await tracing!.shutdown();
    expect(isTracing()).toBe(false);
    expect(trace.getTracer('t').startSpan('y').isRecording()).toBe(false);
  });
});

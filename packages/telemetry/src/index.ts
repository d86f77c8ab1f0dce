import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { otlpProtocol } from '@tasklane/core';

export interface Tracing {
  /** Sends the spans still buffered and stops; call it last at shutdown. */
  shutdown(): Promise<void>;
}

/**
 * Registers OpenTelemetry tracing for this process when `OTEL_EXPORTER_OTLP_ENDPOINT` is set:
 * W3C trace context, async-local context, and spans batched to the OTLP/HTTP endpoint, as
 * protobuf unless `OTEL_EXPORTER_OTLP_PROTOCOL` asks for JSON (core's `otlpProtocol`; the
 * exporter reads the other standard OTEL_EXPORTER_OTLP_* variables itself). Unset, nothing is
 * registered and the API's no-op tracer stays in place, so tracing costs nothing. Throws core's
 * `ConfigError`, before registering anything, for a protocol it cannot send.
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (!env['OTEL_EXPORTER_OTLP_ENDPOINT'] && !env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) return undefined;
  // Protobuf, the specification's default, is about a third of JSON's bytes per span (hex ids,
  // an object per attribute); what the two cost the worker to encode was the same in the bench.
  const exporter = otlpProtocol(env) === 'http/json' ? new JsonTraceExporter() : new ProtobufTraceExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env['OTEL_SERVICE_NAME'] || serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  active = true;
  return {
    async shutdown() {
      active = false;
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

let active = false;

/** Whether this process registered tracing with `startTracing` (and has not shut it down). */
export function isTracing(): boolean {
  return active;
}

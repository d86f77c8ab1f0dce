/**
 * Names shared by every process's spans, after OpenTelemetry's messaging semantic conventions: a
 * submit is a `send <kind>` span, each attempt a `process <kind>` span, the outcome's write a
 * `settle <kind>` span, all in the submit's trace.
 */
export const TRACER_NAME = 'tasklane';

export const TRACE_ATTRIBUTES = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  attempt: 'tasklane.task.attempt',
  workerId: 'tasklane.worker.id',
  aborted: 'tasklane.task.aborted',
  errorType: 'error.type',
} as const;

/**
 * The OTLP encodings over HTTP that traces can be exported in (`OTEL_EXPORTER_OTLP_PROTOCOL`),
 * the specification's default first. gRPC is not among them.
 */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

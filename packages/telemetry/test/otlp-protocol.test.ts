import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@tasklane/core';
import { startTracing } from '../src/index.ts';

interface Export {
  contentType: string;
  body: Buffer;
}

let server: Server;
let endpoint: string;
const received: Export[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/v1/traces') received.push({ contentType: String(request.headers['content-type']), body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': String(request.headers['content-type']) }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
});

/**
 * Starts tracing with `env` (in process.env too: the exporters read their variables from there),
 * ends one span named `name`, and returns the export that carried it.
 */
async function exportOne(name: string, env: Record<string, string>): Promise<Export & { traceId: string }> {
  const all = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...env };
  const saved = Object.fromEntries(Object.keys(all).map((key) => [key, process.env[key]]));
  Object.assign(process.env, all);
  let traceId: string;
  try {
    const tracing = startTracing('otlp-test', all)!;
    const span = trace.getTracer('otlp-test').startSpan(name);
    traceId = span.spanContext().traceId;
    span.end();
    // Shutting down sends what the batch holds.
    await tracing.shutdown();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  const found = received.find((e) => e.body.includes(Buffer.from(name)));
  if (!found) throw new Error(`no export carried ${name}`);
  return { ...found, traceId };
}

describe('the OTLP protocol of startTracing', () => {
  it('sends protobuf by default, as the specification says', async () => {
    const sent = await exportOne('span-default', {});
    expect(sent.contentType).toBe('application/x-protobuf');
    // Protobuf carries the trace id as its 16 raw bytes.
    expect(sent.body.includes(Buffer.from(sent.traceId, 'hex'))).toBe(true);
  });

  it('sends JSON when OTEL_EXPORTER_OTLP_PROTOCOL is http/json, and the traces variable wins over it', async () => {
    const json = await exportOne('span-json', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    expect(json.contentType).toBe('application/json');
    const spans = (JSON.parse(json.body.toString('utf8')) as { resourceSpans: { scopeSpans: { spans: { name: string; traceId: string }[] }[] }[] })
      .resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    expect(spans).toContainEqual(expect.objectContaining({ name: 'span-json', traceId: json.traceId }));
    const traces = await exportOne('span-traces-variable', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' });
    expect(traces.contentType).toBe('application/x-protobuf');
  });

  it('refuses gRPC and unknown protocols with a ConfigError that says what to set', () => {
    expect(() => startTracing('t', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(ConfigError);
    expect(() => startTracing('t', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTLP\/HTTP port, 4318/);
    expect(() => startTracing('t', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' })).toThrow(
      'Invalid OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="thrift": expected one of http/protobuf, http/json',
    );
    // Nothing was registered by the refused starts.
    expect(trace.getTracer('t').startSpan('x').isRecording()).toBe(false);
  });
});

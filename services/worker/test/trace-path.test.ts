import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { startApiProcess, type ApiProcess } from '@tasklane/client/testing';

const WORKER_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
}

/** An OTLP/HTTP (JSON) trace receiver: what a collector would get from the API and the worker. */
function startReceiver(): Promise<{ server: Server; url: string; spans: ReceivedSpan[]; contentTypes: Set<string> }> {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      contentTypes.add(String(request.headers['content-type']));
      if (request.url === '/v1/traces' && String(request.headers['content-type']).startsWith('application/json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: { key: string; value: Record<string, unknown> }[] }[] }[];
          }[];
        };
        for (const rs of body.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              const attributes = Object.fromEntries((s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
              spans.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, attributes });
            }
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, contentTypes })));
}

let db: TestDatabase;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let api: ApiProcess;
let worker: ChildProcess;
let workerOutput = '';

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startReceiver();
  // Spans leave in batches; a short delay keeps the test from waiting on the default 5 s.
  // JSON, which this receiver reads; protobuf, the default, is checked in packages/telemetry.
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100' };
  api = await startApiProcess({ databaseUrl: db.url, env: otel });
  worker = spawn(process.execPath, ['--import', TSX, WORKER_MAIN], {
    env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn', ...otel },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  worker.stderr!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
}, 120_000);
afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    await exited;
  }
  await api?.stop();
  receiver?.server.close();
  await db?.drop();
});

async function until<T>(check: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; worker said: ${workerOutput.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it('holds the whole path of a task in one trace: the submit request, the API, the attempt in the worker, the outcome', async () => {
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const callerSpan = 'b7ad6b7169203331';
  const response = await fetch(`${api.origin}/api/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
    body: JSON.stringify({ kind: 'image', input: { prompt: 'a traced cat', duration_seconds: 0 } }),
  });
  expect(response.status).toBe(202);
  const { task_id: id } = (await response.json()) as { task_id: string };
  await until(async () => {
    const task = (await (await fetch(`${api.origin}/api/v1/tasks/${id}`)).json()) as { status: string };
    return task.status === 'completed' ? task : undefined;
  }, 'the task to complete');

  const [send, processSpan, settle] = await until(() => {
    const of = (name: string) => receiver.spans.find((s) => s.name === name && s.attributes['messaging.message.id'] === id);
    const found = [of('send image'), of('process image'), of('settle image')];
    return found.every(Boolean) ? (found as [ReceivedSpan, ReceivedSpan, ReceivedSpan]) : undefined;
  }, 'the spans of both processes');

  for (const span of [send, processSpan, settle]) expect(span.traceId).toBe(traceId);
  expect(send).toMatchObject({ service: 'tasklane-api', parentSpanId: callerSpan });
  expect(send.attributes).toMatchObject({ 'messaging.system': 'tasklane', 'messaging.operation.type': 'send', 'messaging.destination.name': 'image' });
  expect(processSpan).toMatchObject({ service: 'tasklane-worker', parentSpanId: send.spanId });
  expect(processSpan.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'tasklane.task.attempt': 1 });
  expect(settle).toMatchObject({ service: 'tasklane-worker', parentSpanId: processSpan.spanId });
});

import { MAX_MESSAGE_LENGTH } from '@tasklane/core';
import { WorkerStore } from '@tasklane/db';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHardeningServer, type HardeningServer } from './hardening-server.ts';

const MAX_BODY = 8192;
const MAX_INPUT = 2048;
const SUBMIT = 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }';

let server: HardeningServer;
beforeAll(async () => {
  server = await startHardeningServer({ MAX_BODY_BYTES: String(MAX_BODY), MAX_INPUT_BYTES: String(MAX_INPUT) });
});
afterAll(() => server?.close());

/** An `input` whose JSON is exactly `bytes` long. */
function inputOf(bytes: number): { data: string } {
  return { data: 'x'.repeat(bytes - '{"data":""}'.length) };
}

function restSubmit(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.origin}/api/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('MAX_BODY_BYTES', () => {
  it('answers an oversized REST body with a 413 problem naming the limit', async () => {
    const response = await restSubmit({ kind: 'video', input: { data: 'x'.repeat(MAX_BODY) } });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({
      type: 'https://tasklane.dev/problems/payload-too-large',
      status: 413,
      detail: `body: is larger than the ${MAX_BODY} bytes the server accepts (MAX_BODY_BYTES)`,
    });
  });

  it('answers an oversized GraphQL body with a 413 GraphQL response in the accepted media type', async () => {
    const response = await server.post({ query: SUBMIT, variables: { input: { kind: 'video', input: { data: 'x'.repeat(MAX_BODY) } } } });
    expect(response.status).toBe(413);
    expect(response.contentType).toContain('application/graphql-response+json');
    expect(response.body).toEqual({
      errors: [{ message: `Request body is larger than the server accepts (MAX_BODY_BYTES=${MAX_BODY} bytes)`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
    });
  });

  it('closes a graphql-ws socket that sends a bigger message with 1009 (message too big)', async () => {
    const socket = new WebSocket(`${server.origin.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.once('error', () => {});
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(MAX_BODY) } }));
    expect(await closed).toBe(1009);
  });
});

describe('MAX_INPUT_BYTES', () => {
  it('accepts an input of exactly the limit and refuses one byte more on REST, naming the field and the limit', async () => {
    expect((await restSubmit({ kind: 'video', input: inputOf(MAX_INPUT) })).status).toBe(202);
    const response = await restSubmit({ kind: 'video', input: inputOf(MAX_INPUT + 1) });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input', detail: `input: must be at most ${MAX_INPUT} bytes of JSON` });
  });

  it('refuses it on GraphQL with BAD_USER_INPUT naming the field', async () => {
    const ok = await server.post({ query: SUBMIT, variables: { input: { kind: 'video', input: inputOf(MAX_INPUT) } } });
    expect(ok.body.errors).toBeUndefined();
    const refused = await server.post({ query: SUBMIT, variables: { input: { kind: 'video', input: inputOf(MAX_INPUT + 1) } } });
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ message: `input: must be at most ${MAX_INPUT} bytes of JSON`, extensions: { code: 'BAD_USER_INPUT', field: 'input' } }),
    ]);
  });

  it('refuses it in a batch, naming the task it found it in, and stores none of the batch', async () => {
    const kind = 'size_batch';
    await expect(server.ctx.store.submitMany([{ kind, input: inputOf(20) }, { kind, input: inputOf(MAX_INPUT + 1) }])).rejects.toThrow(
      `tasks[1].input: must be at most ${MAX_INPUT} bytes of JSON`,
    );
    expect((await server.ctx.store.list({ kind: [kind] })).tasks).toEqual([]);
  });
});

describe('string fields', () => {
  it.each([
    ['service', { kind: 'video', service: 's'.repeat(101) }, {}, 'service: must be a string of 1-100 characters'],
    ['Idempotency-Key', { kind: 'video' }, { 'idempotency-key': 'k'.repeat(256) }, 'Idempotency-Key: must be 1-255 printable ASCII characters'],
    ['kind', { kind: 'k'.repeat(33) }, {}, 'kind: must be 1-32 lowercase letters'],
  ])('REST refuses an oversized %s with 400 naming it', async (_field, body, headers, detail) => {
    const response = await restSubmit(body, headers);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toContain(detail);
  });

  it.each([
    ['service', { kind: 'video', service: 's'.repeat(101) }, 'service: must be a string of 1-100 characters'],
    ['idempotencyKey', { kind: 'video', idempotencyKey: 'k'.repeat(256) }, 'idempotencyKey: must be a string of 1-255 characters'],
  ])('GraphQL refuses an oversized %s with BAD_USER_INPUT naming it', async (field, input, message) => {
    const response = await server.post({ query: SUBMIT, variables: { input } });
    expect(response.body.errors).toEqual([expect.objectContaining({ message, extensions: { code: 'BAD_USER_INPUT', field } })]);
  });
});

describe('worker messages', () => {
  it('cuts an oversized progress or error message to MAX_MESSAGE_LENGTH instead of storing or serving it whole', async () => {
    const kind = 'size_messages';
    const id = ((await (await restSubmit({ kind, max_attempts: 1 })).json()) as { task_id: string }).task_id;
    const worker = new WorkerStore(server.ctx.pool, { workerId: 'size-test', leaseSeconds: 60 });
    const [task] = await worker.claim(1, [kind], { total: 100, perKind: {} });
    const held = { id, attempt: task!.attempts };
    expect(await worker.progress(held, 10, 'p'.repeat(100_000))).toBe(true);
    const listed = (await (await fetch(`${server.origin}/api/v1/tasks?kind=${kind}`)).json()) as { message: string }[];
    expect(listed[0]!.message).toBe(`${'p'.repeat(MAX_MESSAGE_LENGTH - 1)}…`);
    expect(await worker.fail({ ...held, error: { type: 'Upstream', message: 'e'.repeat(100_000), retryable: false } })).toBe('failed');
    const body = (await (await fetch(`${server.origin}/api/v1/tasks/${id}`)).json()) as { error: { message: string } };
    expect(body.error.message).toHaveLength(MAX_MESSAGE_LENGTH);
    expect(body.error.message.endsWith('…')).toBe(true);
  });
});

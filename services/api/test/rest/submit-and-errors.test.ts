import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRestHarness, uniqueKind, type RestHarness } from './rest-harness.ts';

let h: RestHarness;
beforeAll(async () => {
  h = await startRestHarness();
});
afterAll(async () => {
  await h.close();
});

function post(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${h.baseUrl}/api/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function problemOf(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
  return (await response.json()) as Record<string, unknown>;
}

describe('POST /api/v1/tasks', () => {
  it('answers 202 with Location, ETag and the task in the GET shape, owned as given', async () => {
    const kind = uniqueKind('sub');
    const response = await post({ kind, input: { prompt: 'a cat' }, service: 'veo3', priority: 7, max_attempts: 2 });
    expect(response.status).toBe(202);
    const body = (await response.json()) as Record<string, unknown>;
    const id = body.task_id as string;
    expect(response.headers.get('location')).toBe(`/api/v1/tasks/${id}`);
    expect(response.headers.get('etag')).toBe(`"${id}-v1"`);
    expect(response.headers.get('idempotent-replayed')).toBeNull();
    expect(Object.keys(body)).toEqual(['task_id', 'status', 'progress', 'created_at', 'updated_at', 'completed_at', 'result', 'error']);
    expect(body).toMatchObject({ status: 'pending', progress: 0, completed_at: null, result: null, error: null });
    expect(await h.ctx.store.get(id)).toMatchObject({ kind, service: 'veo3', priority: 7, maxAttempts: 2, input: { prompt: 'a cat' } });
    const fetched = await fetch(`${h.baseUrl}${response.headers.get('location')}`);
    expect(await fetched.json()).toEqual(body);
  });

  it('replays the original task for the same Idempotency-Key and request, quoted or bare', async () => {
    const kind = uniqueKind('idem');
    const first = await post({ kind, input: { a: 1, b: 2 } }, { 'idempotency-key': '"order-42"' });
    expect(first.status).toBe(202);
    const original = (await first.json()) as { task_id: string };
    // Same meaning, other key order, bare token: the draft's key is the same string.
    const again = await post({ input: { b: 2, a: 1 }, kind }, { 'idempotency-key': 'order-42' });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('location')).toBe(`/api/v1/tasks/${original.task_id}`);
    expect(((await again.json()) as { task_id: string }).task_id).toBe(original.task_id);
    const list = await fetch(`${h.baseUrl}/api/v1/tasks?kind=${kind}`);
    expect(((await list.json()) as unknown[]).length).toBe(1);
  });

  it('refuses the same key with another request: 422 problem', async () => {
    const kind = uniqueKind('idemx');
    expect((await post({ kind, input: { a: 1 } }, { 'idempotency-key': 'k-conflict' })).status).toBe(202);
    const response = await post({ kind, input: { a: 2 } }, { 'idempotency-key': 'k-conflict' });
    expect(response.status).toBe(422);
    expect(await problemOf(response)).toMatchObject({
      type: 'https://tasklane.dev/problems/idempotency-conflict',
      status: 422,
      code: 'IDEMPOTENCY_CONFLICT',
      detail: expect.stringContaining('k-conflict'),
    });
  });

  it.each<[unknown, string, string]>([
    [{ input: {} }, 'kind', 'kind: is required, e.g. "video"'],
    [{ kind: 'Video!' }, 'kind', 'kind: must be 1-32 lowercase letters, digits or _, starting with a letter (e.g. "video")'],
    [{ kind: 'video', max_attempts: 0 }, 'max_attempts', 'max_attempts: must be a whole number from 1 to 100'],
    [{ kind: 'video', max_attempts: '3' }, 'max_attempts', 'max_attempts: must be a whole number'],
    [{ kind: 'video', priority: 1.5 }, 'priority', 'priority: must be a whole number from -1000 to 1000'],
    [{ kind: 'video', service: '' }, 'service', 'service: must be a string of 1-100 characters'],
    [{ kind: 'video', maxAttempts: 2 }, 'maxAttempts', 'maxAttempts: is not a submit field (allowed: kind, input, service, priority, max_attempts, webhook, metadata)'],
    [[1, 2], 'body', 'body: must be a JSON object such as {"kind": "video", "input": {...}}'],
    [{ kind: 'video', input: { big: 'x'.repeat(70_000) } }, 'input', 'input: must be at most 65536 bytes of JSON'],
  ])('refuses a bad submission (case %#) with a 400 naming the field', async (body, field, detail) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(await problemOf(response)).toMatchObject({ type: 'https://tasklane.dev/problems/invalid-request', status: 400, field, detail });
  });

  it('refuses a bad Idempotency-Key with a 400 naming the header', async () => {
    const response = await post({ kind: 'video' }, { 'idempotency-key': 'x'.repeat(256) });
    expect(response.status).toBe(400);
    expect(await problemOf(response)).toMatchObject({ field: 'Idempotency-Key' });
  });

  it('answers malformed JSON, an empty body and other media types with problems', async () => {
    const malformed = await post('{"kind": "video",');
    expect(malformed.status).toBe(400);
    expect(await problemOf(malformed)).toMatchObject({ type: 'https://tasklane.dev/problems/malformed-body', field: 'body', detail: 'body: is not valid JSON' });

    const empty = await post('');
    expect(empty.status).toBe(400);
    expect(await problemOf(empty)).toMatchObject({ type: 'https://tasklane.dev/problems/malformed-body', field: 'body' });

    const text = await fetch(`${h.baseUrl}/api/v1/tasks`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'kind=video' });
    expect(text.status).toBe(415);
    expect(await problemOf(text)).toMatchObject({ type: 'https://tasklane.dev/problems/unsupported-media-type', status: 415 });

    const huge = await post({ kind: 'video', input: { big: 'x'.repeat(2 * 1024 * 1024) } });
    expect(huge.status).toBe(413);
    expect(await problemOf(huge)).toMatchObject({ type: 'https://tasklane.dev/problems/payload-too-large', status: 413 });
  });
});

describe('requests that take no body', () => {
  it.each(['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream'])(
    'count an empty body sent with Content-Type %s as no body: DELETE cancels, GET reads',
    async (contentType) => {
      const id = ((await (await post({ kind: uniqueKind('nobody') })).json()) as { task_id: string }).task_id;
      const headers = { 'content-type': contentType };
      const read = await fetch(`${h.baseUrl}/api/v1/tasks/${id}`, { headers });
      expect(read.status).toBe(200);
      // With an explicit zero length, as most clients send it, and with none.
      const cancelled = await fetch(`${h.baseUrl}/api/v1/tasks/${id}`, { method: 'DELETE', headers: { ...headers, 'content-length': '0' } });
      expect(cancelled.status).toBe(200);
      expect(await cancelled.json()).toEqual({ success: true, message: `Task ${id} has been cancelled`, task_id: id });
      const again = await fetch(`${h.baseUrl}/api/v1/tasks/${id}`, { method: 'DELETE', headers });
      expect(again.status).toBe(200);
      expect((await (await fetch(`${h.baseUrl}/api/v1/tasks/${id}`)).json()) as { status: string }).toMatchObject({ status: 'cancelled' });
    },
  );

  it('still parses a body sent with DELETE, and still refuses an empty or non-JSON body on POST', async () => {
    const id = ((await (await post({ kind: uniqueKind('nobody') })).json()) as { task_id: string }).task_id;
    const broken = await fetch(`${h.baseUrl}/api/v1/tasks/${id}`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: '{"reason":' });
    expect(broken.status).toBe(400);
    expect(await problemOf(broken)).toMatchObject({ field: 'body', detail: 'body: is not valid JSON' });
    const other = await fetch(`${h.baseUrl}/api/v1/tasks/${id}`, { method: 'DELETE', headers: { 'content-type': 'text/plain' }, body: 'please' });
    expect(other.status).toBe(415);
    expect((await post('')).status).toBe(400);
  });
});

describe('problems for everything else', () => {
  it('answers unknown routes under /api with a 404 problem', async () => {
    for (const [method, path] of [
      ['GET', '/api/v2/tasks'],
      ['GET', '/api/v1/nothing'],
      ['PUT', '/api/v1/tasks/vid_00000000000000000000000000'],
    ] as const) {
      const response = await fetch(`${h.baseUrl}${path}`, { method });
      expect(response.status).toBe(404);
      const body = await problemOf(response);
      expect(body).toMatchObject({ type: 'https://tasklane.dev/problems/not-found', title: 'Not Found', status: 404 });
      expect(typeof body.detail).toBe('string');
    }
  });

  it('never answers 500 to odd input', async () => {
    const paths = [
      '/api/v1/tasks/%00',
      '/api/v1/tasks/%ZZ',
      '/api/v1/tasks/vid_00000000000000000000000000?wait[]=1',
      '/api/v1/tasks?limit=1&limit=2',
      '/api/v1/tasks?status=pending&status=bogus',
      '/api/v1/tasks?cursor=%00',
      '/api/v1/tasks?created_after=2026-13-45T99:99:99Z',
      '/api/v1/tasks/..%2F..%2Fetc%2Fpasswd',
      '/api/v1/tasks/vid_00000000000000000000000000/events',
    ];
    for (const path of paths) {
      const response = await fetch(`${h.baseUrl}${path}`);
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.status, path).toBeLessThan(500);
      await response.body?.cancel();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { WebhookReceiver } from '@tasklane/worker/testing';
import { createWebhookDispatcher, type WebhookDispatcher } from '@tasklane/worker';
import { startRestHarness, uniqueKind, type RestHarness } from './rest-harness.ts';
import { startAuthServer, http, type AuthServer } from '../auth-harness.ts';

const SEED_KEYS = ['task_id', 'status', 'progress', 'created_at', 'updated_at', 'completed_at', 'result', 'error'];

let h: RestHarness;
let receiver: WebhookReceiver;
let dispatcher: WebhookDispatcher;

beforeAll(async () => {
  h = await startRestHarness();
  receiver = await new WebhookReceiver().listen();
  dispatcher = createWebhookDispatcher({ pool: h.ctx.pool, connectionString: undefined, settings: { ...h.ctx.config.webhooks, retryDelaysMs: [50] }, pollIntervalMs: 50 });
  await dispatcher.start();
});
afterAll(async () => {
  await dispatcher.stop();
  await receiver.close();
  await h.close();
});

async function post(path: string, body?: unknown) {
  const response = await fetch(`${h.baseUrl}${path}`, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function get(path: string) {
  const response = await fetch(`${h.baseUrl}${path}`);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

async function graphql(query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${h.baseUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as { data?: Record<string, any>; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

async function until<T>(check: () => Promise<T | undefined | false>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('submitting a webhook over REST', () => {
  it('answers 400 naming webhook.url for a bad URL and the event for an unknown one', async () => {
    for (const url of ['not a url', 'ftp://example.com/x', '', 42]) {
      const answer = await post('/api/v1/tasks', { kind: 'video', webhook: { url } });
      expect(answer.status, String(url)).toBe(400);
      expect(answer.body).toMatchObject({ code: 'BAD_USER_INPUT', field: 'webhook.url' });
    }
    const unknown = await post('/api/v1/tasks', { kind: 'video', webhook: { url: receiver.url, events: ['completed', 'finished'] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ field: 'webhook.events[1]' });
    expect(unknown.body.detail).toContain('"finished" is not an event');
    const notObject = await post('/api/v1/tasks', { kind: 'video', webhook: 'https://example.com' });
    expect(notObject.body).toMatchObject({ field: 'webhook' });
  });

  it('keeps the plain GET body to the seed keys while the log shows the webhook', async () => {
    const submitted = await post('/api/v1/tasks', { kind: uniqueKind(), webhook: { url: receiver.url, events: ['processing', 'completed'] } });
    expect(submitted.status).toBe(202);
    expect(Object.keys(submitted.body)).toEqual(SEED_KEYS);
    const read = await get(`/api/v1/tasks/${submitted.body.task_id}`);
    expect(Object.keys(read.body)).toEqual(SEED_KEYS);
    const log = await get(`/api/v1/tasks/${submitted.body.task_id}/webhooks`);
    expect(log.body).toEqual({ task_id: submitted.body.task_id, webhook: { url: receiver.url, events: ['processing', 'completed'] }, deliveries: [] });
  });
});

describe('the delivery log, redelivery and the secret', () => {
  it('logs each attempt, redelivers the latest event under a new webhook-id, and signs with the secret it serves', async () => {
    const kind = uniqueKind();
    const { body } = await post('/api/v1/tasks', { kind, webhook: { url: receiver.url } });
    const id = body.task_id as string;
    await h.worker.claim(kind);
    await h.worker.complete(id, { ok: true });
    const log = await until(async () => {
      const l = (await get(`/api/v1/tasks/${id}/webhooks`)).body;
      return l.deliveries[0]?.state === 'delivered' ? l : undefined;
    }, 'the delivery');
    expect(log.deliveries).toHaveLength(1);
    expect(log.deliveries[0]).toMatchObject({ event: 'completed', url: receiver.url, next_attempt_at: null, attempts: [{ attempt: 1, status_code: 200, error: null, outcome: 'delivered' }] });
    expect(log.deliveries[0].attempts[0].duration_ms).toBeGreaterThanOrEqual(0);

    const again = await post(`/api/v1/tasks/${id}/webhooks/redeliver`);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ event: 'completed', state: 'waiting' });
    expect(again.body.id).not.toBe(log.deliveries[0].id);
    await until(async () => receiver.forTask(id).length === 2, 'the redelivery');
    const hits = receiver.forTask(id);
    expect(hits.map((r) => r.headers['webhook-id'])).toEqual([log.deliveries[0].id, again.body.id]);
    expect(hits[1]!.json).toEqual({ ...hits[0]!.json });

    const secret = await get('/api/v1/webhooks/secret');
    expect(secret.status).toBe(200);
    expect(secret.headers.get('cache-control')).toBe('no-store');
    expect(secret.body).toMatchObject({ owner: 'default', secret: expect.stringMatching(/^whsec_/) as string, previous_expires_at: null });
    const hit = hits[0]!;
    const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((k) => [k, String(hit.headers[k])]));
    expect(new Webhook(secret.body.secret as string).verify(hit.body, headers)).toEqual(hit.json);
    // The secret shows in no log of the delivery.
    expect(JSON.stringify((await get(`/api/v1/tasks/${id}/webhooks`)).body)).not.toContain((secret.body.secret as string).slice(6));

    const rotated = await post('/api/v1/webhooks/secret/rotate');
    expect(rotated.body.secret).not.toBe(secret.body.secret);
    expect(rotated.body.previous_expires_at).toMatch(/Z$/);
    expect((await get('/api/v1/webhooks/secret')).body.secret).toBe(rotated.body.secret);
  });

  it('answers 409 when there is nothing to redeliver and 404 for an unknown task', async () => {
    const { body } = await post('/api/v1/tasks', { kind: uniqueKind() });
    const none = await post(`/api/v1/tasks/${body.task_id}/webhooks/redeliver`);
    expect(none.status).toBe(409);
    expect(none.body.detail).toContain('has no webhook');
    const unsent = await post('/api/v1/tasks', { kind: uniqueKind(), webhook: { url: receiver.url } });
    expect((await post(`/api/v1/tasks/${unsent.body.task_id}/webhooks/redeliver`)).status).toBe(409);
    expect((await get('/api/v1/tasks/vid_00000000000000000000000000/webhooks')).status).toBe(404);
  });

  it('reports deliveries by state, waiting ones and the oldest age on /metrics', async () => {
    const kind = uniqueKind();
    const { body } = await post('/api/v1/tasks', { kind, webhook: { url: receiver.url, events: ['processing'] } });
    await dispatcher.stop();
    try {
      await h.worker.claim(kind);
      const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
      expect(text).toMatch(/^tasklane_webhook_deliveries_waiting [1-9]/m);
      expect(text).toMatch(/^tasklane_webhook_deliveries\{state="delivered"\} [1-9]/m);
      expect(text).toMatch(/^tasklane_webhook_oldest_waiting_age_seconds \d/m);
    } finally {
      await dispatcher.start();
    }
    await until(async () => receiver.forTask(body.task_id as string).length === 1, 'the processing delivery');
  });
});

describe('webhooks in GraphQL', () => {
  it('submits with a webhook and reads it, its deliveries and the secret', async () => {
    const kind = uniqueKind();
    const submitted = await graphql('mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id webhook { url events } } }', {
      input: { kind, webhook: { url: receiver.url, events: ['PROCESSING', 'COMPLETED'] } },
    });
    expect(submitted.errors).toBeUndefined();
    const task = submitted.data!.submitTask as { id: string; webhook: unknown };
    expect(task.webhook).toEqual({ url: receiver.url, events: ['PROCESSING', 'COMPLETED'] });
    await h.worker.claim(kind);
    await until(async () => receiver.forTask(task.id).length === 1, 'the processing delivery');
    const read = await until(async () => {
      const r = await graphql('query($id: ID!) { task(id: $id) { webhookDeliveries { id event state attempts { attempt statusCode outcome } } } }', { id: task.id });
      const deliveries = r.data?.task?.webhookDeliveries as { state: string }[] | undefined;
      return deliveries?.[0]?.state === 'DELIVERED' ? deliveries : undefined;
    }, 'a delivered delivery');
    expect(read).toEqual([{ id: receiver.forTask(task.id)[0]!.headers['webhook-id'], event: 'PROCESSING', state: 'DELIVERED', attempts: [{ attempt: 1, statusCode: 200, outcome: 'delivered' }] }]);
    const secret = await graphql('{ webhookSecret { owner secret } }');
    expect(secret.data!.webhookSecret).toMatchObject({ owner: 'default', secret: expect.stringMatching(/^whsec_/) as string });
  });

  it('refuses a bad webhook URL naming webhook.url', async () => {
    const answer = await graphql('mutation { submitTask(input: {kind: "video", webhook: {url: "nope"}}) { id } }');
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'webhook.url' });
  });
});

describe('with AUTH=on', () => {
  let server: AuthServer;
  beforeAll(async () => {
    server = await startAuthServer({ WEBHOOK_ALLOW_HTTP: 'on' });
  });
  afterAll(async () => {
    await server.close();
  });

  const submit = (key: string, webhook: unknown) =>
    http(`${server.origin}/api/v1/tasks`, { key, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'video', webhook }) });

  it('refuses loopback and private URLs at submit', async () => {
    for (const url of [receiver.url, 'http://localhost:9/x', 'http://[::1]:9/x', 'http://192.168.1.10/x', 'http://169.254.169.254/latest/meta-data']) {
      const answer = await submit(server.keys.alice, { url });
      expect(answer.status, url).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ field: 'webhook.url', rule: expect.stringContaining('loopback') as string });
    }
  });

  it('requires https unless WEBHOOK_ALLOW_HTTP=on', async () => {
    const strict = await startAuthServer();
    try {
      const answer = await http(`${strict.origin}/api/v1/tasks`, {
        key: strict.keys.alice,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'video', webhook: { url: 'http://example.com/hook' } }),
      });
      expect(JSON.parse(answer.body)).toMatchObject({ field: 'webhook.url', rule: expect.stringContaining('https') as string });
    } finally {
      await strict.close();
    }
  });

  it("scopes the log to the task's owner and the secret to the key's owner", async () => {
    const created = await submit(server.keys.alice, { url: 'https://example.com/hook' });
    expect(created.status).toBe(202);
    const id = JSON.parse(created.body).task_id as string;
    expect((await http(`${server.origin}/api/v1/tasks/${id}/webhooks`, { key: server.keys.alice })).status).toBe(200);
    expect((await http(`${server.origin}/api/v1/tasks/${id}/webhooks`, { key: server.keys.bob })).status).toBe(404);
    expect((await http(`${server.origin}/api/v1/tasks/${id}/webhooks/redeliver`, { key: server.keys.bob, method: 'POST' })).status).toBe(404);
    const alice = JSON.parse((await http(`${server.origin}/api/v1/webhooks/secret`, { key: server.keys.alice })).body);
    const bob = JSON.parse((await http(`${server.origin}/api/v1/webhooks/secret`, { key: server.keys.bob })).body);
    expect(alice.owner).toBe('alice');
    expect(bob.owner).toBe('bob');
    expect(alice.secret).not.toBe(bob.secret);
    expect((await http(`${server.origin}/api/v1/webhooks/secret?owner=alice`, { key: server.keys.bob })).status).toBe(403);
    const byAdmin = JSON.parse((await http(`${server.origin}/api/v1/webhooks/secret?owner=alice`, { key: server.keys.admin })).body);
    expect(byAdmin.secret).toBe(alice.secret);
    expect((await http(`${server.origin}/api/v1/webhooks/secret`)).status).toBe(401);
  });
});

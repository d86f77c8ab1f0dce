import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { ValidationError, type WebhookSettings } from '@tasklane/core';
import { TaskStore, WebhookStore } from '@tasklane/db';
import { WebhookReceiver, type Answer } from '@tasklane/worker/testing';
import { createWebhookDispatcher, fixedResolver, type WebhookDispatcher, type WebhookDispatcherOptions } from '../src/index.ts';
import { deferred, useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();
let store: TaskStore;
let hooks: WebhookStore;
const receivers: WebhookReceiver[] = [];
const dispatchers: WebhookDispatcher[] = [];

function settings(overrides: Partial<WebhookSettings> = {}): WebhookSettings {
  return { allowPrivate: true, allowHttp: true, retryDelaysMs: [50, 50, 50], timeoutMs: 5000, deliver: true, concurrency: 8, ...overrides };
}

async function dispatcher(overrides: Partial<WebhookSettings> = {}, options: Partial<WebhookDispatcherOptions> = {}): Promise<WebhookDispatcher> {
  const d = createWebhookDispatcher({ pool: env.pool, connectionString: env.url, settings: settings(overrides), pollIntervalMs: 100, ...options });
  dispatchers.push(d);
  await d.start();
  return d;
}

async function receiver(answer?: ConstructorParameters<typeof WebhookReceiver>[0]): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver(answer).listen();
  receivers.push(r);
  return r;
}

const done = deferred();
let firstHookSeen = deferred();
beforeAll(async () => {
  store = new TaskStore(env.pool, { webhookPolicy: { allowPrivate: true, allowHttp: true } });
  hooks = new WebhookStore(env.pool);
  await env.worker({
    handlers: {
      quick: async () => ({ video_url: 'https://cdn.example/v.mp4' }),
      fails: async () => {
        throw Object.assign(new Error('bad prompt'), { name: 'PolicyError' });
      },
      held: async (_task, ctx) => {
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return null;
      },
      steps: async (task, ctx) => {
        const steps = (task.input as { steps: number }).steps;
        for (let i = 1; i <= steps; i++) {
          ctx.progress(i, `step ${i}`);
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
        return { steps };
      },
      gated: async () => {
        await done.promise;
        return null;
      },
      after_first_hook: async () => {
        await firstHookSeen.promise;
        return { ok: true };
      },
    },
  });
});
// Each test's dispatchers only: another test's (other settings) would take its deliveries.
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
});
afterAll(async () => {
  done.resolve();
  await Promise.all(receivers.map((r) => r.close()));
});

async function deliveriesSettled(taskId: string, count: number) {
  return waitFor(
    async () => {
      const log = await hooks.deliveries(taskId);
      return log.length >= count && log.every((d) => d.state !== 'waiting') ? log : undefined;
    },
    { what: `${count} settled deliveries of ${taskId}` },
  );
}

it('posts a completed task once, with the GET body as data, signed per Standard Webhooks', async () => {
  const r = await receiver();
  await dispatcher();
  const { task } = await store.submit({ kind: 'quick', webhook: { url: r.url } });
  const [delivery] = await deliveriesSettled(task.id, 1);
  expect(delivery).toMatchObject({ event: 'completed', state: 'delivered', attempts: [{ attempt: 1, statusCode: 200, outcome: 'delivered' }] });
  const received = r.forTask(task.id);
  expect(received).toHaveLength(1);
  const [hit] = received;
  const current = (await store.get(task.id))!;
  expect(hit!.json.type).toBe('task.completed');
  expect(new Date(hit!.json.timestamp).getTime()).toBeGreaterThan(0);
  expect(hit!.json.data).toEqual({
    task_id: task.id,
    status: 'completed',
    progress: 100,
    created_at: current.createdAt.toISOString().slice(0, 19) + 'Z',
    updated_at: current.updatedAt.toISOString().slice(0, 19) + 'Z',
    completed_at: current.completedAt!.toISOString().slice(0, 19) + 'Z',
    result: { service: null, result: { video_url: 'https://cdn.example/v.mp4' }, duration: expect.any(Number) as number },
    error: null,
  });
  expect(hit!.headers['content-type']).toBe('application/json');
  expect(hit!.headers['webhook-id']).toBe(delivery!.id);

  const { secret } = await hooks.secret('default');
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  const headers = { 'webhook-id': String(hit!.headers['webhook-id']), 'webhook-timestamp': String(hit!.headers['webhook-timestamp']), 'webhook-signature': String(hit!.headers['webhook-signature']) };
  expect(new Webhook(secret).verify(hit!.body, headers)).toEqual(hit!.json);
  // The same by hand: base64 HMAC-SHA256 of "id.timestamp.body" under the decoded secret.
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${hit!.body}`).digest('base64');
  expect(headers['webhook-signature']).toBe(`v1,${expected}`);
  expect(() => new Webhook(secret).verify(hit!.body.replace('completed', 'cancelled'), headers)).toThrow();
});

it('retries a receiver that answers 500 twice: three attempts with one webhook-id, then none', async () => {
  const r = await receiver((n) => (n < 2 ? 500 : 200));
  await dispatcher();
  const { task } = await store.submit({ kind: 'quick', webhook: { url: r.url } });
  const [delivery] = await deliveriesSettled(task.id, 1);
  expect(delivery!.state).toBe('delivered');
  expect(delivery!.attempts.map((a) => [a.attempt, a.statusCode, a.outcome])).toEqual([
    [1, 500, 'failed'],
    [2, 500, 'failed'],
    [3, 200, 'delivered'],
  ]);
  const ids = r.forTask(task.id).map((h) => h.headers['webhook-id']);
  expect(ids).toEqual([delivery!.id, delivery!.id, delivery!.id]);
});

it('delivers to a receiver that was down for the first attempts once it is up', async () => {
  const r = await receiver();
  const port = r.port;
  await r.close();
  await dispatcher();
  const { task } = await store.submit({ kind: 'quick', webhook: { url: `http://127.0.0.1:${port}/hook` } });
  await waitFor(async () => (await hooks.deliveries(task.id))[0]?.attempts.some((a) => a.statusCode === null && /ECONNREFUSED/.test(a.error ?? '')), {
    what: 'a refused attempt',
  });
  await r.listen(port);
  const [delivery] = await deliveriesSettled(task.id, 1);
  expect(delivery!.state).toBe('delivered');
  expect(r.forTask(task.id)).toHaveLength(1);
});

it('gives up after the last scheduled retry', async () => {
  const r = await receiver(() => 502);
  await dispatcher();
  const { task } = await store.submit({ kind: 'quick', webhook: { url: r.url } });
  const [delivery] = await deliveriesSettled(task.id, 1);
  expect(delivery!.state).toBe('failed');
  expect(delivery!.attempts).toHaveLength(4);
  expect(r.forTask(task.id)).toHaveLength(4);
});

it('honours Retry-After on 503, fails on a timeout and on a redirect without following it', async () => {
  const r = await receiver((n): Answer => {
    if (n === 0) return { status: 503, headers: { 'retry-after': '1' } };
    if (n === 1) return 'hang';
    if (n === 2) return { status: 302, headers: { location: '/elsewhere' } };
    return 200;
  });
  await dispatcher({ timeoutMs: 300 });
  const { task } = await store.submit({ kind: 'quick', webhook: { url: r.url } });
  const [delivery] = await deliveriesSettled(task.id, 1);
  expect(delivery!.attempts.map((a) => [a.statusCode, a.error, a.outcome])).toEqual([
    [503, 'HTTP 503', 'failed'],
    [null, 'no answer within 300 ms', 'failed'],
    [302, 'HTTP 302', 'failed'],
    [200, null, 'delivered'],
  ]);
  // The schedule says 50 ms; the receiver asked for a second.
  expect(delivery!.attempts[1]!.at.getTime() - delivery!.attempts[0]!.at.getTime()).toBeGreaterThanOrEqual(950);
  expect(r.received.map((h) => h.headers.host)).not.toContain('elsewhere');
  expect(r.forTask(task.id)).toHaveLength(4);
});

it('stops delivering a task to a URL that answered 410', async () => {
  const r = await receiver(() => 410);
  await dispatcher();
  const { task } = await store.submit({ kind: 'steps', input: { steps: 3 }, webhook: { url: r.url, events: ['processing', 'progress', 'completed'] } });
  await waitFor(async () => (await store.get(task.id))?.status === 'completed', { what: 'completion' });
  const log = await deliveriesSettled(task.id, 1);
  expect(log[0], JSON.stringify(log)).toMatchObject({ event: 'processing', state: 'gone' });
  expect(log.slice(1).every((d) => d.state === 'stopped')).toBe(true);
  expect(r.forTask(task.id)).toHaveLength(1);
  expect(await hooks.redeliver(task.id)).toBe('gone');
});

it('sends cancelled when a task is cancelled', async () => {
  const r = await receiver();
  await dispatcher();
  const { task } = await store.submit({ kind: 'held', webhook: { url: r.url } });
  await waitFor(async () => (await store.get(task.id))?.status === 'processing', { what: 'the task to start' });
  await store.cancel(task.id);
  const [delivery] = await deliveriesSettled(task.id, 1);
  expect(delivery).toMatchObject({ event: 'cancelled', state: 'delivered' });
  expect(r.forTask(task.id).map((h) => [h.json.type, h.json.data.status])).toEqual([['task.cancelled', 'cancelled']]);
});

it('sends a failed task with its error', async () => {
  const r = await receiver();
  await dispatcher();
  const { task } = await store.submit({ kind: 'fails', maxAttempts: 1, webhook: { url: r.url, events: ['failed'] } });
  await deliveriesSettled(task.id, 1);
  expect(r.forTask(task.id).map((h) => [h.json.type, h.json.data.error])).toEqual([['task.failed', { type: 'PolicyError', message: 'bad prompt' }]]);
});

it('throttles progress to one per 2 s, sends the last one, and never lets progress overtake the end', async () => {
  // The receiver is slow, so deliveries queue up behind each other.
  const r = await receiver();
  await dispatcher();
  const { task } = await store.submit({ kind: 'steps', input: { steps: 120 }, webhook: { url: r.url, events: ['processing', 'progress', 'completed'] } });
  const log = await waitFor(async () => {
    const l = await hooks.deliveries(task.id);
    return l.some((d) => d.event === 'completed' && d.state === 'delivered') ? l : undefined;
  }, { what: 'the completed delivery' });
  const hits = r.forTask(task.id);
  const types = hits.map((h) => h.json.type);
  expect(types[0]).toBe('task.processing');
  expect(types.at(-1)).toBe('task.completed');
  expect(types.slice(1, -1).every((t) => t === 'task.progress')).toBe(true);
  const progress = hits.filter((h) => h.json.type === 'task.progress');
  expect(progress.length).toBeGreaterThanOrEqual(1);
  // Values only go up, and the last reported step reached the receiver.
  const values = progress.map((h) => h.json.data.progress as number);
  expect([...values].sort((a, b) => a - b)).toEqual(values);
  expect(values.at(-1)).toBe(100);
  for (let i = 1; i < progress.length; i++) expect(progress[i]!.at - progress[i - 1]!.at).toBeGreaterThanOrEqual(1900);
  expect(log.filter((d) => d.event === 'progress')).toHaveLength(progress.length);
});

it('supersedes a failing processing delivery with the newer completed one instead of holding the end back', async () => {
  firstHookSeen = deferred();
  const r = await receiver((_n, request) => {
    firstHookSeen.resolve();
    return request.body.includes('"task.processing"') ? 500 : 200;
  });
  await dispatcher({ retryDelaysMs: [200, 200, 200, 200, 200] });
  const { task } = await store.submit({ kind: 'after_first_hook', webhook: { url: r.url, events: ['processing', 'completed'] } });
  const log = await deliveriesSettled(task.id, 2);
  expect(log.map((d) => [d.event, d.state])).toEqual([
    ['processing', 'superseded'],
    ['completed', 'delivered'],
  ]);
  const types = r.forTask(task.id).map((h) => h.json.type);
  expect(types.at(-1)).toBe('task.completed');
  expect(types.filter((t) => t === 'task.completed')).toHaveLength(1);
});

it('never sends one attempt twice with several dispatchers claiming at once', async () => {
  const r = await receiver();
  await Promise.all([dispatcher(), dispatcher(), dispatcher()]);
  const submitted = await store.submitMany(Array.from({ length: 60 }, () => ({ kind: 'quick', webhook: { url: r.url } })));
  for (const { task } of submitted) await deliveriesSettled(task.id, 1);
  const ids = submitted.flatMap(({ task }) => r.forTask(task.id).map((h) => h.headers['webhook-id']));
  expect(ids).toHaveLength(60);
  expect(new Set(ids).size).toBe(60);
});

it('keeps delivering to other receivers while one never answers', async () => {
  const stuck = await receiver(() => 'hang');
  const healthy = await receiver();
  await dispatcher({ concurrency: 4, timeoutMs: 30_000 }, { perUrl: 1 });
  const slow = await store.submitMany(Array.from({ length: 6 }, () => ({ kind: 'quick', webhook: { url: stuck.url } })));
  await waitFor(() => stuck.received.length >= 1, { what: 'the stuck receiver to be called' });
  const { task } = await store.submit({ kind: 'quick', webhook: { url: healthy.url } });
  await deliveriesSettled(task.id, 1);
  expect(healthy.forTask(task.id)).toHaveLength(1);
  // The hanging requests still hang: the healthy one went past them, not after them.
  const stuckRequests = slow.flatMap(({ task: t }) => stuck.forTask(t.id));
  expect(stuckRequests.length).toBeGreaterThanOrEqual(1);
  expect(stuckRequests.length).toBeLessThanOrEqual(4);
  await stuck.close();
});

it('signs with both secrets for a day after a rotation', async () => {
  const r = await receiver();
  await dispatcher();
  const owner = 'rotating';
  const old = (await hooks.secret(owner)).secret;
  const rotated = await hooks.rotateSecret(owner);
  expect(rotated.secret).not.toBe(old);
  expect(rotated.previousExpiresAt!.getTime() - Date.now()).toBeGreaterThan(23 * 3_600_000);
  const { task } = await store.submit({ kind: 'quick', webhook: { url: r.url } }, { owner });
  await deliveriesSettled(task.id, 1);
  const [hit] = r.forTask(task.id);
  const signature = String(hit!.headers['webhook-signature']);
  expect(signature.split(' ')).toHaveLength(2);
  const headers = { 'webhook-id': String(hit!.headers['webhook-id']), 'webhook-timestamp': String(hit!.headers['webhook-timestamp']), 'webhook-signature': signature };
  expect(new Webhook(old).verify(hit!.body, headers)).toEqual(hit!.json);
  expect(new Webhook(rotated.secret).verify(hit!.body, headers)).toEqual(hit!.json);
  expect(signature).not.toContain(rotated.secret.slice(6));
});

it('refuses at connect a name that resolves to a private address, and reaches it only when allowed', async () => {
  const r = await receiver();
  const resolve = fixedResolver({ 'hooks.tasklane.test': '127.0.0.1' });
  const guarded = await dispatcher({ allowPrivate: false, retryDelaysMs: [] }, { resolve });
  const url = `http://hooks.tasklane.test:${r.port}/hook`;
  const { task } = await store.submit({ kind: 'quick', webhook: { url } });
  const [delivery] = await deliveriesSettled(task.id, 1);
  expect(delivery!.state).toBe('failed');
  expect(delivery!.attempts[0]!.error).toMatch(/hooks\.tasklane\.test resolves to 127\.0\.0\.1/);
  expect(r.forTask(task.id)).toHaveLength(0);
  await guarded.stop();

  // The same name through a dispatcher that allows private addresses: the resolver is real.
  await dispatcher({ allowPrivate: true }, { resolve });
  const { task: allowed } = await store.submit({ kind: 'quick', webhook: { url } });
  await deliveriesSettled(allowed.id, 1);
  expect(r.forTask(allowed.id)).toHaveLength(1);
});

it('refuses a literal loopback address at delivery even when the submit allowed it', async () => {
  const r = await receiver();
  const guarded = await dispatcher({ allowPrivate: false, retryDelaysMs: [] });
  const { task } = await store.submit({ kind: 'quick', webhook: { url: r.url } });
  const [delivery] = await deliveriesSettled(task.id, 1);
  expect(delivery!.attempts[0]!.error).toMatch(/127\.0\.0\.1/);
  expect(r.forTask(task.id)).toHaveLength(0);
  await guarded.stop();
});

it('refuses loopback, private and metadata URLs and plain http at submit under the strict policy', async () => {
  const strict = new TaskStore(env.pool);
  for (const url of ['https://127.0.0.1/x', 'https://localhost/x', 'https://10.1.2.3/x', 'https://169.254.169.254/latest', 'https://[::1]/x', 'https://[::ffff:7f00:1]/x', 'http://example.com/x']) {
    await expect(strict.submit({ kind: 'quick', webhook: { url } }), url).rejects.toMatchObject({ field: 'webhook.url' });
  }
  await expect(strict.submit({ kind: 'quick', webhook: { url: 'https://example.com/x', events: ['done'] } })).rejects.toMatchObject({
    field: 'webhook.events[0]',
  });
  await expect(strict.submit({ kind: 'quick', webhook: { url: 'not a url' } })).rejects.toBeInstanceOf(ValidationError);
  const { task } = await strict.submit({ kind: 'gated', webhook: { url: 'https://example.com/x' } });
  expect(task.webhook).toEqual({ url: 'https://example.com/x', events: ['completed', 'failed', 'cancelled'] });
});

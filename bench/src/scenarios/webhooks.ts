import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '@tasklane/core';
import { createPool, TaskStore, WebhookStore, WorkerStore } from '@tasklane/db';
import { createWebhookDispatcher } from '@tasklane/worker';
import { round } from '../stats.ts';
import type { Scenario } from '../types.ts';

/**
 * Webhook deliveries per second against a local receiver: N completed tasks' deliveries are
 * written with no sender running (the outbox fills in the completions' own transactions), then
 * one dispatcher with the default settings (32 sends at once) sends them all. The receiver checks
 * every signature with the standardwebhooks library and counts each webhook-id; the run fails
 * unless every task was delivered exactly once with a valid signature.
 */
export const webhooks: Scenario = async (ctx, result) => {
  const count = ctx.quick ? 500 : 10_000;
  result.params.deliveries = count;
  const url = await ctx.freshDatabase('webhooks');
  const pool = createPool({ connectionString: url, max: 8, applicationName: 'tasklane-bench' });
  const store = new TaskStore(pool, { webhookPolicy: { allowPrivate: true, allowHttp: true } });
  const secret = (await new WebhookStore(pool).secret('default')).secret;
  const verifier = new Webhook(secret);
  const seen = new Map<string, number>();
  let bad = 0;
  let last = 0;
  let allIn: (() => void) | undefined;
  const receiver = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      try {
        const payload = verifier.verify(body, request.headers as Record<string, string>) as { data: { task_id: string } };
        seen.set(payload.data.task_id, (seen.get(payload.data.task_id) ?? 0) + 1);
      } catch {
        bad++;
      }
      last = performance.now();
      response.writeHead(204).end();
      if (seen.size === count) allIn?.();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const settings = { ...loadConfig({ DATABASE_URL: url }).webhooks, retryDelaysMs: [100, 100] };
  result.params.concurrency = settings.concurrency;
  const dispatcher = createWebhookDispatcher({ pool, connectionString: url, settings });
  try {
    const worker = new WorkerStore(pool, { workerId: 'bench-webhooks', leaseSeconds: 600 });
    for (let done = 0; done < count; ) {
      const batch = Math.min(1000, count - done);
      await store.submitMany(Array.from({ length: batch }, (_, i) => ({ kind: 'hook', input: { i: done + i }, webhook: { url: hook } })));
      const claimed = await worker.claim(batch, ['hook'], { total: 1_000_000, perKind: {} });
      await worker.complete(claimed.map((t) => ({ id: t.id, attempt: t.attempts, result: { ok: true } })));
      done += claimed.length;
    }
    const waiting = await new WebhookStore(pool).stats();
    if (waiting.waiting !== count) throw new Error(`expected ${count} waiting deliveries, found ${waiting.waiting}`);
    const finished = new Promise<void>((resolve) => (allIn = resolve));
    const t0 = performance.now();
    await dispatcher.start();
    await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${seen.size} of ${count} delivered in 10 minutes`)), 600_000))]);
    const seconds = (last - t0) / 1000;
    const twice = [...seen.values()].filter((n) => n !== 1).length;
    if (bad > 0 || twice > 0) throw new Error(`${bad} deliveries failed verification, ${twice} tasks were delivered more than once`);
    result.figures = { deliveries_per_s: round(count / seconds), seconds: round(seconds), verified: seen.size };
    result.notes.push('one dispatcher (32 concurrent sends, keep-alive) and the receiver share this process; every signature verified');
  } finally {
    await dispatcher.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await pool.end();
  }
};

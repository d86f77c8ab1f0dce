import { expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook, WebhookVerificationError } from '../src/index.ts';

const secret = `whsec_${Buffer.from('a'.repeat(32)).toString('base64')}`;
const other = `whsec_${Buffer.from('b'.repeat(32)).toString('base64')}`;
const body = JSON.stringify({ type: 'task.completed', timestamp: '2026-12-01T10:00:00.000Z', data: { task_id: 'vid_1', status: 'completed' } });

function signed(by: string[], at = new Date(), id = 'msg_1'): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': by.map((s) => new Webhook(s).sign(id, at, body)).join(' '),
  };
}

it('accepts a body signed by the standardwebhooks library and returns the payload', async () => {
  await expect(verifyWebhook(body, signed([secret]), secret)).resolves.toEqual(JSON.parse(body));
  // Fetch Headers and raw bytes work too.
  await expect(verifyWebhook(new TextEncoder().encode(body), new Headers(signed([secret])), secret)).resolves.toMatchObject({ type: 'task.completed' });
});

it('rejects a wrong secret, a changed body and a changed id', async () => {
  await expect(verifyWebhook(body, signed([secret]), other)).rejects.toBeInstanceOf(WebhookVerificationError);
  await expect(verifyWebhook(body.replace('vid_1', 'vid_2'), signed([secret]), secret)).rejects.toThrow(/no webhook-signature matches/);
  await expect(verifyWebhook(body, { ...signed([secret]), 'webhook-id': 'msg_2' }, secret)).rejects.toThrow(/no webhook-signature matches/);
});

it('rejects a timestamp more than 5 minutes off, either way', async () => {
  const now = Date.now();
  await expect(verifyWebhook(body, signed([secret], new Date(now - 301_000)), secret, { now })).rejects.toThrow(/more than 300 s/);
  await expect(verifyWebhook(body, signed([secret], new Date(now + 301_000)), secret, { now })).rejects.toThrow(/more than 300 s/);
  await expect(verifyWebhook(body, signed([secret], new Date(now - 290_000)), secret, { now })).resolves.toBeDefined();
});

it('accepts either signature while a rotation signs with two secrets', async () => {
  const both = signed([other, secret]);
  expect(both['webhook-signature']!.split(' ')).toHaveLength(2);
  await expect(verifyWebhook(body, both, secret)).resolves.toBeDefined();
  await expect(verifyWebhook(body, both, other)).resolves.toBeDefined();
  await expect(verifyWebhook(body, signed([other]), [secret, other])).resolves.toBeDefined();
});

it('says which header is missing', async () => {
  const { 'webhook-signature': _, ...headers } = signed([secret]);
  await expect(verifyWebhook(body, headers, secret)).rejects.toThrow('missing webhook-signature header');
});

/**
 * Checks a Tasklane webhook on the receiving side, per Standard Webhooks: the signature over
 * `id.timestamp.body` under the owner's `whsec_` secret, and a timestamp within 5 minutes (a
 * replayed old request fails). Uses Web Crypto only, so it runs in Node 20+, browsers, Deno,
 * Bun and edge runtimes alike.
 */

/** The JSON a webhook carries: `data` is the task's REST GET body at the change. */
export interface WebhookPayload {
  type: 'task.processing' | 'task.progress' | 'task.completed' | 'task.failed' | 'task.cancelled';
  timestamp: string;
  data: {
    task_id: string;
    status: 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';
    progress: number;
    created_at: string;
    updated_at: string;
    completed_at: string | null;
    result: { service: string | null; result: unknown; duration: number } | null;
    error: { type: string; message: string } | null;
  };
}

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

export interface VerifyWebhookOptions {
  /** How far the `webhook-timestamp` may be from now. @default 300 */
  toleranceSeconds?: number;
  /** Now, in milliseconds (tests). @default Date.now() */
  now?: number;
}

type HeadersLike = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeadersLike, name: string): string {
  const value = typeof (headers as Headers).get === 'function' ? (headers as Headers).get(name) : (headers as Record<string, string | string[] | undefined>)[name];
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || text === '') throw new WebhookVerificationError(`missing ${name} header`);
  return text;
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Compares without stopping at the first difference, so timing does not tell how much matched. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

async function sign(secret: string, content: string): Promise<string> {
  let key: Uint8Array<ArrayBuffer>;
  try {
    key = fromBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  } catch {
    throw new WebhookVerificationError('the secret is not a whsec_ secret (whsec_ and base64)');
  }
  const hmac = await globalThis.crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return toBase64(new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', hmac, new TextEncoder().encode(content))));
}

/**
 * Returns the parsed payload when `body` (the raw request body, exactly as received) carries a
 * valid signature by `secret` (or any of several, while you rotate) and a fresh timestamp;
 * otherwise throws `WebhookVerificationError`.
 */
export async function verifyWebhook(
  body: string | Uint8Array,
  headers: HeadersLike,
  secret: string | readonly string[],
  { toleranceSeconds = 300, now = Date.now() }: VerifyWebhookOptions = {},
): Promise<WebhookPayload> {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!/^\d{1,15}$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not a Unix time in seconds');
  if (Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) {
    throw new WebhookVerificationError(`webhook-timestamp is more than ${toleranceSeconds} s from now: an old (replayed) or mistimed request`);
  }
  const offered = signatures
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => s.slice(3));
  for (const candidate of typeof secret === 'string' ? [secret] : secret) {
    const expected = await sign(candidate, `${id}.${timestamp}.${text}`);
    if (offered.some((s) => sameText(s, expected))) return JSON.parse(text) as WebhookPayload;
  }
  throw new WebhookVerificationError('no webhook-signature matches the secret');
}

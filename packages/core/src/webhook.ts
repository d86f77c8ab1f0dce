import { ValidationError } from './errors.ts';
import { isLocalHostName, isPublicAddress } from './webhook-address.ts';

/** What a task's webhook can be told about. `progress` is throttled to one per 2 s per task. */
export const WEBHOOK_EVENTS = ['processing', 'progress', 'completed', 'failed', 'cancelled'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
/** Without `events`, a webhook hears of the end of its task only. */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEvent[] = ['completed', 'failed', 'cancelled'];
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** A task's webhook as stored (`tasklane.tasks.webhook`). */
export interface WebhookConfig {
  url: string;
  events: WebhookEvent[];
}

/** What a client gives: events default to the terminal ones. */
export interface NewWebhook {
  url: string;
  events?: readonly string[] | null | undefined;
}

/** Where webhooks may go; see `WebhookSettings` for how the settings pick these. */
export interface WebhookPolicy {
  /** Loopback, private, link-local and metadata addresses allowed (local development). */
  allowPrivate: boolean;
  /** Plain http:// allowed (otherwise https only). */
  allowHttp: boolean;
}

/** The delivery's `type`: `task.completed`, `task.progress`, … */
export function webhookType(event: WebhookEvent): string {
  return `task.${event}`;
}

/** The characters a URI may hold: unreserved, reserved, and `%` of an escape. */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a submitted webhook; throws a `ValidationError` naming `webhook.url`, `webhook.events` or
 * the unknown event. Addresses are checked here only when the URL names an IP (or localhost): a
 * name is judged by the address it resolves to when the delivery connects.
 */
export function validateWebhook(value: unknown, policy: WebhookPolicy): WebhookConfig {
  if (!isObject(value)) throw new ValidationError('webhook', 'must be an object such as {"url": "https://example.com/hooks"}');
  for (const key of Object.keys(value)) {
    if (key !== 'url' && key !== 'events') throw new ValidationError(`webhook.${key}`, 'is not a webhook field (allowed: url, events)');
  }
  const raw = value.url;
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_WEBHOOK_URL_LENGTH) {
    throw new ValidationError('webhook.url', `must be an absolute http(s) URL of at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    // An RFC 3986 URI, as written (the OpenAPI schema's format: uri): `new URL` would quietly
    // repair spaces, other characters and stray `%`, and deliver to a URL the client never gave.
    if (!URI_CHARACTERS.test(raw) || /%(?![0-9A-Fa-f]{2})/.test(raw)) throw new TypeError('not a URI');
    url = new URL(raw);
  } catch {
    throw new ValidationError('webhook.url', 'must be an absolute URL such as https://example.com/hooks');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ValidationError('webhook.url', 'must start with https://');
  if (url.protocol === 'http:' && !policy.allowHttp) throw new ValidationError('webhook.url', 'must use https:// (plain http is allowed only with WEBHOOK_ALLOW_HTTP=on)');
  // Credentials in a URL would show in every delivery log line.
  if (url.username !== '' || url.password !== '') throw new ValidationError('webhook.url', 'must not carry a user name or password');
  if (!policy.allowPrivate) {
    const host = url.hostname;
    const literal = host.startsWith('[') ? host.slice(1, -1) : host;
    if (isLocalHostName(host) || (/^[\d.]+$|:/.test(literal) && !isPublicAddress(literal))) {
      throw new ValidationError('webhook.url', 'must not point at a loopback, private, link-local or metadata address');
    }
  }
  const events = value.events ?? null;
  if (events !== null && (!Array.isArray(events) || events.length === 0)) {
    throw new ValidationError('webhook.events', `must be a non-empty list of ${WEBHOOK_EVENTS.join(', ')}`);
  }
  const chosen: WebhookEvent[] = [];
  for (const [index, event] of ((events as unknown[] | null) ?? DEFAULT_WEBHOOK_EVENTS).entries()) {
    if (typeof event !== 'string' || !(WEBHOOK_EVENTS as readonly string[]).includes(event)) {
      throw new ValidationError(`webhook.events[${index}]`, `${JSON.stringify(event)} is not an event (allowed: ${WEBHOOK_EVENTS.join(', ')})`);
    }
    if (!chosen.includes(event as WebhookEvent)) chosen.push(event as WebhookEvent);
  }
  return { url: url.href, events: chosen };
}

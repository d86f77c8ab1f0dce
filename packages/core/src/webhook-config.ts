import { ConfigError } from './errors.ts';
import { isLocalHostName } from './webhook-address.ts';
import type { WebhookPolicy } from './webhook.ts';

/** Delays before the 2nd, 3rd, … attempt: the first is immediate. Eight attempts in all. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';

export interface WebhookSettings extends WebhookPolicy {
  /** Milliseconds before each retry (`WEBHOOK_RETRY_SCHEDULE`); its length + 1 is the attempt count. */
  retryDelaysMs: number[];
  /** A receiver that has not answered within this fails the attempt. @default 10000 */
  timeoutMs: number;
  /** Whether this process sends deliveries (`WEBHOOK_DELIVERY`, worker processes). @default true */
  deliver: boolean;
  /** Deliveries one process sends at once. @default 32 */
  concurrency: number;
}

type Env = Record<string, string | undefined>;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const MAX_DELAY_MS = 7 * 24 * 3_600_000;

/** `5s,5m,30m,2h` → milliseconds; a bare number is seconds. */
export function parseRetrySchedule(raw: string, name = 'WEBHOOK_RETRY_SCHEDULE'): number[] {
  const delays = raw.split(',').map((part) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(part);
    const value = match ? Number(match[1]) * UNITS[match[2] ?? 's']! : NaN;
    if (!Number.isFinite(value) || value > MAX_DELAY_MS) {
      throw new ConfigError(name, raw, 'a comma-separated list of delays such as 5s,5m,30m,2h (units ms, s, m, h; at most 7 days each)');
    }
    return Math.round(value);
  });
  if (delays.length > 50) throw new ConfigError(name, raw, 'at most 50 retries');
  return delays;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = raw.toLowerCase();
  if (value === 'on' || value === 'true' || value === '1') return true;
  if (value === 'off' || value === 'false' || value === '0') return false;
  throw new ConfigError(name, raw, 'on or off');
}

function bounded(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new ConfigError(name, raw, `a number from ${min} to ${max}`);
  return value;
}

/** Whether `HOST` keeps the API on this machine (local development). */
export function isLoopbackHost(host: string): boolean {
  return isLocalHostName(host) || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === '[::1]';
}

/**
 * With `AUTH=on` webhooks go only to public addresses over https unless `WEBHOOK_ALLOW_PRIVATE` /
 * `WEBHOOK_ALLOW_HTTP` say otherwise. With `AUTH=off` on a loopback `HOST` (the local quick start)
 * both are allowed, so a receiver on localhost works; with auth off on an open host, private
 * addresses stay refused (anyone who can reach the API could otherwise probe the network).
 */
export function readWebhookSettings(env: Env, auth: 'on' | 'off', host: string): WebhookSettings {
  const local = auth === 'off' && isLoopbackHost(host);
  return {
    allowPrivate: flag(env, 'WEBHOOK_ALLOW_PRIVATE', local),
    allowHttp: flag(env, 'WEBHOOK_ALLOW_HTTP', auth === 'off'),
    retryDelaysMs: parseRetrySchedule(env.WEBHOOK_RETRY_SCHEDULE?.trim() || DEFAULT_WEBHOOK_RETRY_SCHEDULE),
    timeoutMs: Math.round(bounded(env, 'WEBHOOK_TIMEOUT_SECONDS', 10, 0.1, 300) * 1000),
    deliver: flag(env, 'WEBHOOK_DELIVERY', true),
    concurrency: bounded(env, 'WEBHOOK_CONCURRENCY', 32, 1, 1000),
  };
}

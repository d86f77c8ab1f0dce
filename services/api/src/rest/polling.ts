import { isTerminal, type Task } from '@tasklane/core';
import { HttpProblem } from './problem.ts';

/**
 * What makes polling cheap: validators (ETag / If-None-Match), a server-suggested interval
 * (Retry-After) and a bounded long poll (`?wait=N`).
 */

/**
 * A strong validator: the body is a pure function of the stored row, and every visible change of
 * the row bumps `version` (a database trigger), so equal tags mean byte-equal bodies.
 */
export function taskEtag(task: Pick<Task, 'id' | 'version'>): string {
  return `"${task.id}-v${task.version}"`;
}

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): `W/` prefixes do not matter. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  for (const part of header.split(',')) {
    let tag = part.trim();
    if (tag.startsWith('W/')) tag = tag.slice(2);
    if (tag === etag) return true;
  }
  return false;
}

/** The version a client already holds, read from one of our own tags in If-None-Match. */
export function versionFromIfNoneMatch(header: string | undefined, taskId: string): number | undefined {
  if (!header) return undefined;
  const prefix = `"${taskId}-v`;
  let best: number | undefined;
  for (const part of header.split(',')) {
    let tag = part.trim();
    if (tag.startsWith('W/')) tag = tag.slice(2);
    if (!tag.startsWith(prefix) || !tag.endsWith('"')) continue;
    const digits = tag.slice(prefix.length, -1);
    if (!/^\d{1,15}$/.test(digits)) continue;
    const version = Number(digits);
    if (best === undefined || version > best) best = version;
  }
  return best;
}

export const MAX_WAIT_SECONDS = 60;

/** `?wait=N`: absent → 0 (answer at once); otherwise a whole number of seconds from 0 to 60. */
export function parseWait(raw: unknown): number {
  if (raw === undefined) return 0;
  if (typeof raw !== 'string' || !/^\d{1,2}$/.test(raw) || Number(raw) > MAX_WAIT_SECONDS) {
    throw HttpProblem.invalid('wait', `must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`);
  }
  return Number(raw);
}

/**
 * Seconds a client should wait before polling again, or undefined for a finished task. Cheap on
 * purpose (no queue query on the hot path), and in line with the seed's polling advice:
 * - pending, scheduled for later (a retry backing off): until it may start, 1-60 s;
 * - pending and runnable: 5 s, the seed's basic interval;
 * - processing: 3 s below 20 %, 5 s up to 80 %, then 2 s as the end nears (the seed's adaptive table).
 */
export function retryAfterSeconds(task: Task, now: number = Date.now()): number | undefined {
  if (isTerminal(task.status)) return undefined;
  if (task.status === 'pending') {
    const untilRun = Math.ceil((task.runAt.getTime() - now) / 1000);
    return untilRun > 0 ? Math.min(untilRun, 60) : 5;
  }
  if (task.progress < 20) return 3;
  if (task.progress < 80) return 5;
  return 2;
}

import { KIND_PATTERN, isTaskId, type JsonValue, type TaskErrorInfo } from '@tasklane/core';
import type { Held } from '@tasklane/db';
import { MAX_WAIT_SECONDS } from './polling.ts';
import { HttpProblem } from './problem.ts';

/** What the worker protocol's request bodies may hold, and their parsing into store calls. */

/** Tasks one claim may take: a batch, but not a whole queue in one answer. */
export const MAX_CLAIM = 100;
/** Kinds one worker may serve in one claim. */
export const MAX_CLAIM_KINDS = 50;
/** Held tasks one heartbeat or release may list. */
export const MAX_HELD = 1000;
export const MAX_ERROR_TYPE_LENGTH = 200;
/** A worker names itself (one id per process, say): letters, digits and . _ : @ -, at most 128. */
export const WORKER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

export interface ClaimRequest {
  kinds: string[];
  max: number;
  wait: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(body: unknown, example: string): Record<string, unknown> {
  if (!isObject(body)) throw HttpProblem.invalid('body', `must be a JSON object such as ${example}`);
  return body;
}

function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const field of Object.keys(body)) {
    if (!allowed.includes(field)) throw HttpProblem.invalid(field, `is not a field of this request (allowed: ${allowed.join(', ')})`);
  }
}

function wholeNumber(value: unknown, field: string, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw HttpProblem.invalid(field, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

export function parseWorkerId(workerId: string): string {
  if (!WORKER_ID_PATTERN.test(workerId)) {
    throw HttpProblem.invalid('worker_id', 'must be 1 to 128 letters, digits or . _ : @ - (starting with a letter or digit), e.g. gpu-box-1-4242');
  }
  return workerId;
}

/** The `attempt` a write is fenced on: the one the claim handed out. */
function attempt(value: unknown, field = 'attempt'): number {
  return wholeNumber(value, field, 1, 1_000_000);
}

export function parseClaim(body: unknown): ClaimRequest {
  const b = object(body, '{"kinds": ["video"], "max": 2, "wait": 20}');
  onlyFields(b, ['kinds', 'max', 'wait']);
  const kinds = b.kinds;
  if (!Array.isArray(kinds) || kinds.length === 0 || kinds.length > MAX_CLAIM_KINDS) {
    throw HttpProblem.invalid('kinds', `must be a list of 1 to ${MAX_CLAIM_KINDS} kinds the worker has handlers for, e.g. ["video"]`);
  }
  for (const [i, kind] of kinds.entries()) {
    if (typeof kind !== 'string' || !KIND_PATTERN.test(kind)) throw HttpProblem.invalid(`kinds[${i}]`, 'must be a kind name: a lowercase letter, then up to 31 lowercase letters, digits or _');
  }
  return {
    kinds: [...new Set(kinds as string[])],
    max: wholeNumber(b.max, 'max', 1, MAX_CLAIM, 1),
    wait: wholeNumber(b.wait, 'wait', 0, MAX_WAIT_SECONDS, 0),
  };
}

function heldList(value: unknown): Held[] {
  if (!Array.isArray(value) || value.length > MAX_HELD) {
    throw HttpProblem.invalid('tasks', `must be a list of at most ${MAX_HELD} held tasks, each {"task_id": "...", "attempt": n}`);
  }
  return value.map((entry, i) => {
    if (!isObject(entry) || typeof entry.task_id !== 'string' || !isTaskId(entry.task_id)) {
      throw HttpProblem.invalid(`tasks[${i}].task_id`, 'must be the task_id a claim returned');
    }
    return { id: entry.task_id, attempt: attempt(entry.attempt, `tasks[${i}].attempt`) };
  });
}

export function parseHeartbeat(body: unknown): { held: Held[]; wait: number } {
  const b = object(body, '{"tasks": [{"task_id": "vid_...", "attempt": 1}], "wait": 10}');
  onlyFields(b, ['tasks', 'wait']);
  return { held: heldList(b.tasks ?? []), wait: wholeNumber(b.wait, 'wait', 0, MAX_WAIT_SECONDS, 0) };
}

export function parseRelease(body: unknown): Held[] {
  const b = object(body, '{"tasks": [{"task_id": "vid_...", "attempt": 1}]}');
  onlyFields(b, ['tasks']);
  return heldList(b.tasks);
}

export function parseProgress(body: unknown): { attempt: number; progress: number; message: string | null } {
  const b = object(body, '{"attempt": 1, "progress": 40, "message": "rendering"}');
  onlyFields(b, ['attempt', 'progress', 'message']);
  const progress = b.progress;
  if (typeof progress !== 'number' || !Number.isFinite(progress) || progress < 0 || progress > 100) {
    throw HttpProblem.invalid('progress', 'must be a number from 0 to 100');
  }
  if (b.message !== undefined && b.message !== null && typeof b.message !== 'string') throw HttpProblem.invalid('message', 'must be a string or null');
  return { attempt: attempt(b.attempt), progress, message: (b.message as string | null | undefined) ?? null };
}

export function parseComplete(body: unknown): { attempt: number; result: JsonValue; service: string | null } {
  const b = object(body, '{"attempt": 1, "result": {"video_url": "..."}}');
  onlyFields(b, ['attempt', 'result', 'service']);
  const service = b.service;
  if (service !== undefined && service !== null && (typeof service !== 'string' || service.length < 1 || service.length > 100)) {
    throw HttpProblem.invalid('service', 'must be 1 to 100 characters, or null');
  }
  return { attempt: attempt(b.attempt), result: (b.result ?? null) as JsonValue, service: (service as string | null | undefined) ?? null };
}

export function parseFail(body: unknown): { attempt: number; error: TaskErrorInfo; progress: number | undefined } {
  const b = object(body, '{"attempt": 1, "error": {"type": "ContentPolicy", "message": "rejected", "retryable": false}}');
  onlyFields(b, ['attempt', 'error', 'progress']);
  const error = b.error;
  if (!isObject(error)) throw HttpProblem.invalid('error', 'must be an object {"type": "...", "message": "...", "retryable": false}');
  onlyFields(error, ['type', 'message', 'retryable']);
  if (typeof error.type !== 'string' || error.type.length < 1 || error.type.length > MAX_ERROR_TYPE_LENGTH) {
    throw HttpProblem.invalid('error.type', `must be a name of 1 to ${MAX_ERROR_TYPE_LENGTH} characters clients can branch on, e.g. "ContentPolicy"`);
  }
  if (typeof error.message !== 'string') throw HttpProblem.invalid('error.message', 'must be a string');
  if (error.retryable !== undefined && typeof error.retryable !== 'boolean') throw HttpProblem.invalid('error.retryable', 'must be true or false');
  const progress = b.progress;
  if (progress !== undefined && progress !== null && (typeof progress !== 'number' || !Number.isFinite(progress) || progress < 0 || progress > 100)) {
    throw HttpProblem.invalid('progress', 'must be a number from 0 to 100');
  }
  return {
    attempt: attempt(b.attempt),
    error: { type: error.type, message: error.message, retryable: error.retryable === true },
    progress: typeof progress === 'number' ? progress : undefined,
  };
}

import { isTaskId, type JsonValue, type TaskErrorInfo } from '@tasklane/core';
import type { Held } from '@tasklane/db';
import { HttpProblem } from './problem.ts';
import {
  claimRequestSchema,
  completeRequestSchema,
  failRequestSchema,
  heartbeatRequestSchema,
  heldTasksSchema,
  progressRequestSchema,
  WORKER_ID_PATTERN,
} from './worker-contract.ts';

/**
 * The parsing of the worker protocol's request bodies into store calls. Which fields each body
 * may have, and every bound, are the body schemas' (worker-contract.ts); the messages are these.
 */

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

/** The fields a body schema declares: any other is refused, so a misspelt one is not ignored. */
function fieldsOf(...schemas: { properties: object }[]): readonly string[] {
  return schemas.flatMap((schema) => Object.keys(schema.properties));
}

function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const field of Object.keys(body)) {
    if (!allowed.includes(field)) throw HttpProblem.invalid(field, `is not a field of this request (allowed: ${allowed.join(', ')})`);
  }
}

interface Bounds {
  minimum: number;
  maximum: number;
  default?: number;
}

/** A whole number within the schema's bounds; absent, the schema's default when it has one. */
function wholeNumber(value: unknown, field: string, { minimum, maximum, default: fallback }: Bounds): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    throw HttpProblem.invalid(field, `must be a whole number from ${minimum} to ${maximum}`);
  }
  return value;
}

/** A number within the schema's bounds (progress). */
function inRange(value: unknown, { minimum, maximum }: Bounds): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= minimum && value <= maximum;
}

const CLAIM = claimRequestSchema.properties;
const KIND = new RegExp(CLAIM.kinds.items.pattern);
const HELD = heldTasksSchema.properties.tasks;
const PROGRESS = progressRequestSchema.properties.progress;
const SERVICE = completeRequestSchema.properties.service;
const ERROR_TYPE = failRequestSchema.properties.error.properties.type;

export function parseWorkerId(workerId: string): string {
  if (!WORKER_ID_PATTERN.test(workerId)) {
    throw HttpProblem.invalid('worker_id', 'must be 1 to 128 letters, digits or . _ : @ - (starting with a letter or digit), e.g. gpu-box-1-4242');
  }
  return workerId;
}

/** The `attempt` a write is fenced on: the one the claim handed out. */
function attempt(value: unknown, field = 'attempt'): number {
  return wholeNumber(value, field, HELD.items.properties.attempt);
}

export function parseClaim(body: unknown): ClaimRequest {
  const b = object(body, '{"kinds": ["video"], "max": 2, "wait": 20}');
  onlyFields(b, fieldsOf(claimRequestSchema));
  const kinds = b.kinds;
  if (!Array.isArray(kinds) || kinds.length < CLAIM.kinds.minItems || kinds.length > CLAIM.kinds.maxItems) {
    throw HttpProblem.invalid('kinds', `must be a list of ${CLAIM.kinds.minItems} to ${CLAIM.kinds.maxItems} kinds the worker has handlers for, e.g. ["video"]`);
  }
  for (const [i, kind] of kinds.entries()) {
    if (typeof kind !== 'string' || !KIND.test(kind)) throw HttpProblem.invalid(`kinds[${i}]`, 'must be a kind name: a lowercase letter, then up to 31 lowercase letters, digits or _');
  }
  return {
    kinds: [...new Set(kinds as string[])],
    max: wholeNumber(b.max, 'max', CLAIM.max),
    wait: wholeNumber(b.wait, 'wait', CLAIM.wait),
  };
}

function heldList(value: unknown): Held[] {
  if (!Array.isArray(value) || value.length > HELD.maxItems) {
    throw HttpProblem.invalid('tasks', `must be a list of at most ${HELD.maxItems} held tasks, each {"task_id": "...", "attempt": n}`);
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
  onlyFields(b, fieldsOf(heartbeatRequestSchema));
  return { held: heldList(b.tasks ?? []), wait: wholeNumber(b.wait, 'wait', heartbeatRequestSchema.properties.wait) };
}

export function parseRelease(body: unknown): Held[] {
  const b = object(body, '{"tasks": [{"task_id": "vid_...", "attempt": 1}]}');
  onlyFields(b, fieldsOf(heldTasksSchema));
  return heldList(b.tasks);
}

export function parseProgress(body: unknown): { attempt: number; progress: number; message: string | null } {
  const b = object(body, '{"attempt": 1, "progress": 40, "message": "rendering"}');
  onlyFields(b, fieldsOf(progressRequestSchema));
  const progress = b.progress;
  if (!inRange(progress, PROGRESS)) throw HttpProblem.invalid('progress', `must be a number from ${PROGRESS.minimum} to ${PROGRESS.maximum}`);
  if (b.message !== undefined && b.message !== null && typeof b.message !== 'string') throw HttpProblem.invalid('message', 'must be a string or null');
  return { attempt: attempt(b.attempt), progress, message: (b.message as string | null | undefined) ?? null };
}

export function parseComplete(body: unknown): { attempt: number; result: JsonValue; service: string | null } {
  const b = object(body, '{"attempt": 1, "result": {"video_url": "..."}}');
  onlyFields(b, fieldsOf(completeRequestSchema));
  const service = b.service;
  if (service !== undefined && service !== null && (typeof service !== 'string' || service.length < SERVICE.minLength || service.length > SERVICE.maxLength)) {
    throw HttpProblem.invalid('service', `must be ${SERVICE.minLength} to ${SERVICE.maxLength} characters, or null`);
  }
  return { attempt: attempt(b.attempt), result: (b.result ?? null) as JsonValue, service: (service as string | null | undefined) ?? null };
}

export function parseFail(body: unknown): { attempt: number; error: TaskErrorInfo; progress: number | undefined } {
  const b = object(body, '{"attempt": 1, "error": {"type": "ContentPolicy", "message": "rejected", "retryable": false}}');
  onlyFields(b, fieldsOf(failRequestSchema));
  const error = b.error;
  if (!isObject(error)) throw HttpProblem.invalid('error', 'must be an object {"type": "...", "message": "...", "retryable": false}');
  onlyFields(error, fieldsOf(failRequestSchema.properties.error));
  if (typeof error.type !== 'string' || error.type.length < ERROR_TYPE.minLength || error.type.length > ERROR_TYPE.maxLength) {
    throw HttpProblem.invalid('error.type', `must be a name of ${ERROR_TYPE.minLength} to ${ERROR_TYPE.maxLength} characters clients can branch on, e.g. "ContentPolicy"`);
  }
  if (typeof error.message !== 'string') throw HttpProblem.invalid('error.message', 'must be a string');
  if (error.retryable !== undefined && typeof error.retryable !== 'boolean') throw HttpProblem.invalid('error.retryable', 'must be true or false');
  const progress = b.progress;
  if (progress !== undefined && progress !== null && !inRange(progress, failRequestSchema.properties.progress)) {
    throw HttpProblem.invalid('progress', `must be a number from ${PROGRESS.minimum} to ${PROGRESS.maximum}`);
  }
  return {
    attempt: attempt(b.attempt),
    error: { type: error.type, message: error.message, retryable: error.retryable === true },
    progress: typeof progress === 'number' ? progress : undefined,
  };
}

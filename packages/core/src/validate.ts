import { createHash } from 'node:crypto';
import { ValidationError } from './errors.ts';
import { isValidKind } from './ids.ts';
import { DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_LIMIT, MAX_PRIORITY, type JsonValue, type NewTask } from './task.ts';

/** Largest accepted `input`, as serialized JSON. */
export const DEFAULT_MAX_INPUT_BYTES = 64 * 1024;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
export const MAX_SERVICE_LENGTH = 100;

export interface ValidNewTask {
  kind: string;
  input: JsonValue;
  service: string | null;
  priority: number;
  maxAttempts: number;
  runAt: Date | null;
  idempotencyKey: string | null;
}

/** The value as JSON text, or undefined when it is not JSON (a function, a cycle, a BigInt). */
function toJsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** Checks a submission and fills its defaults; throws a `ValidationError` naming the field. */
export function validateNewTask(task: NewTask, maxInputBytes = DEFAULT_MAX_INPUT_BYTES): ValidNewTask {
  if (typeof task.kind !== 'string' || !isValidKind(task.kind)) {
    throw new ValidationError('kind', 'must be 1-32 lowercase letters, digits or _, starting with a letter (e.g. "video")');
  }
  const input = task.input ?? {};
  const inputText = toJsonText(input);
  if (inputText === undefined) throw new ValidationError('input', 'must be JSON');
  // Byte length only matters near the limit: a string has at most 3 UTF-8 bytes per UTF-16 unit.
  if (inputText.length * 3 > maxInputBytes && Buffer.byteLength(inputText) > maxInputBytes) {
    throw new ValidationError('input', `must be at most ${maxInputBytes} bytes of JSON`);
  }
  const service = task.service ?? null;
  if (service !== null && (typeof service !== 'string' || service.length === 0 || service.length > MAX_SERVICE_LENGTH)) {
    throw new ValidationError('service', `must be a string of 1-${MAX_SERVICE_LENGTH} characters`);
  }
  const priority = task.priority ?? 0;
  if (!Number.isInteger(priority) || Math.abs(priority) > MAX_PRIORITY) {
    throw new ValidationError('priority', `must be a whole number from -${MAX_PRIORITY} to ${MAX_PRIORITY}`);
  }
  const maxAttempts = task.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw new ValidationError('maxAttempts', `must be a whole number from 1 to ${MAX_ATTEMPTS_LIMIT}`);
  }
  const runAt = task.runAt ?? null;
  if (runAt !== null && (!(runAt instanceof Date) || Number.isNaN(runAt.getTime()))) {
    throw new ValidationError('runAt', 'must be a valid date-time');
  }
  const idempotencyKey = task.idempotencyKey ?? null;
  if (idempotencyKey !== null && (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    throw new ValidationError('idempotencyKey', `must be a string of 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  return { kind: task.kind, input, service, priority, maxAttempts, runAt, idempotencyKey };
}

/** JSON with object keys sorted, so equal values always serialize the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** What an idempotency key is bound to: the request's meaning, not its key order or spacing. */
export function requestHash(task: ValidNewTask): string {
  const { idempotencyKey: _key, ...request } = task;
  return createHash('sha256').update(canonicalJson(request)).digest('base64url');
}

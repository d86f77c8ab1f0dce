import { createHash } from 'node:crypto';
import { ValidationError } from './errors.ts';
import { isValidKind } from './ids.ts';
import { validateWebhook, type WebhookConfig, type WebhookPolicy } from './webhook.ts';
import {
  DEFAULT_MAX_ATTEMPTS,
  MAX_ATTEMPTS_LIMIT,
  MAX_METADATA_LENGTH,
  MAX_METADATA_PAIRS,
  MAX_PRIORITY,
  type JsonValue,
  type NewTask,
  type TaskMetadata,
} from './task.ts';
import { checkInputShape, DEFAULT_MAX_INPUT_DEPTH } from './input-shape.ts';

/** Largest accepted `input`, as serialized JSON. */
export const DEFAULT_MAX_INPUT_BYTES = 64 * 1024;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
export const MAX_SERVICE_LENGTH = 100;
/** Longest owner name another owner's webhook secret may be asked for by (REST `?owner=`, GraphQL `owner`). */
export const MAX_OWNER_LENGTH = 200;
/** Longest progress or error message kept; a handler's longer text is cut, not refused. */
export const MAX_MESSAGE_LENGTH = 2000;

/**
 * A worker's message, cut to `MAX_MESSAGE_LENGTH` with an ellipsis. Refusing would fail a task over
 * its status text (often an upstream provider's error body), and every read and push carries it.
 */
export function clampMessage(text: string): string {
  if (text.length <= MAX_MESSAGE_LENGTH) return text;
  let cut = text.slice(0, MAX_MESSAGE_LENGTH - 1);
  // Never leave half of a surrogate pair behind.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

export interface ValidNewTask {
  kind: string;
  input: JsonValue;
  /** `input` as the JSON text that was checked, so it need not be serialised again to store it. */
  inputText: string;
  service: string | null;
  priority: number;
  maxAttempts: number;
  runAt: Date | null;
  idempotencyKey: string | null;
  webhook: WebhookConfig | null;
  /** Null when the submission carried none (or an empty object). */
  metadata: TaskMetadata | null;
}

/** Without a policy of its own a store refuses http:// and private addresses (AUTH=on's rules). */
export const STRICT_WEBHOOK_POLICY: WebhookPolicy = { allowPrivate: false, allowHttp: false };

/**
 * Postgres stores neither U+0000 nor an unpaired UTF-16 surrogate in text or jsonb; without these
 * checks such a submission fails in the INSERT, as a server error instead of a 400.
 */
const UNSTORABLE_RULE = 'the character U+0000 or unpaired UTF-16 surrogates';
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what must be found
const UNSTORABLE_CHAR = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** The same in JSON.stringify output, which escapes exactly these as \u0000 and \udXXX (an escaped backslash before them does not count). */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/;

/** The value as JSON text, or undefined when it is not JSON (a function, a cycle, a BigInt). */
function toJsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** The limits a submission is checked against. */
export interface InputLimits {
  /** `MAX_INPUT_BYTES`. @default 64 KiB */
  maxInputBytes?: number;
  /** `MAX_INPUT_DEPTH`. @default 32 */
  maxInputDepth?: number;
}

/**
 * Checks a task's `input`: a JSON object (handlers read named fields from it), nested at most
 * `maxInputDepth` deep. Returns its JSON text. Every submit path (REST, GraphQL, bulk, the store
 * itself) comes through here, so they all answer the same.
 */
export function validateInput(input: unknown, { maxInputBytes = DEFAULT_MAX_INPUT_BYTES, maxInputDepth = DEFAULT_MAX_INPUT_DEPTH }: InputLimits = {}): string {
  checkInputShape(input, maxInputDepth);
  const inputText = toJsonText(input);
  if (inputText === undefined) throw new ValidationError('input', 'must be JSON');
  // Byte length only matters near the limit: a string has at most 3 UTF-8 bytes per UTF-16 unit.
  if (inputText.length * 3 > maxInputBytes && Buffer.byteLength(inputText) > maxInputBytes) {
    throw new ValidationError('input', `must be at most ${maxInputBytes} bytes of JSON`);
  }
  if (UNSTORABLE_ESCAPE.test(inputText)) throw new ValidationError('input', `must not contain ${UNSTORABLE_RULE}`);
  return inputText;
}

/** Checks a submission and fills its defaults; throws a `ValidationError` naming the field. */
export function validateNewTask(task: NewTask, limits: InputLimits = {}, webhookPolicy: WebhookPolicy = STRICT_WEBHOOK_POLICY): ValidNewTask {
  if (typeof task.kind !== 'string' || !isValidKind(task.kind)) {
    throw new ValidationError('kind', 'must be 1-32 lowercase letters, digits or _, starting with a letter (e.g. "video")');
  }
  // Left out, it is {}; an explicit null is a value, and not an object.
  const input = task.input === undefined ? {} : task.input;
  const inputText = validateInput(input, limits);
  const service = task.service ?? null;
  if (service !== null && (typeof service !== 'string' || service.length === 0 || service.length > MAX_SERVICE_LENGTH)) {
    throw new ValidationError('service', `must be a string of 1-${MAX_SERVICE_LENGTH} characters`);
  }
  if (service !== null && UNSTORABLE_CHAR.test(service)) throw new ValidationError('service', `must not contain ${UNSTORABLE_RULE}`);
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
  if (idempotencyKey !== null && UNSTORABLE_CHAR.test(idempotencyKey)) throw new ValidationError('idempotencyKey', `must not contain ${UNSTORABLE_RULE}`);
  const webhook = task.webhook === undefined || task.webhook === null ? null : validateWebhook(task.webhook, webhookPolicy);
  const metadata = validateMetadata(task.metadata, 'metadata');
  return { kind: task.kind, input, inputText, service, priority, maxAttempts, runAt, idempotencyKey, webhook, metadata };
}

/**
 * Metadata as a submission or a filter gives it: an object of string values, at most
 * MAX_METADATA_PAIRS pairs of at most MAX_METADATA_LENGTH characters each. Null when absent or empty.
 */
export function validateMetadata(value: unknown, field: string): TaskMetadata | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(field, 'must be an object of string values, e.g. {"customer": "acme"}');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_METADATA_PAIRS) throw new ValidationError(field, `must have at most ${MAX_METADATA_PAIRS} keys`);
  for (const [key, item] of entries) {
    if (key.length === 0 || key.length > MAX_METADATA_LENGTH) {
      throw new ValidationError(field, `keys must be 1-${MAX_METADATA_LENGTH} characters`);
    }
    if (typeof item !== 'string') throw new ValidationError(`${field}.${key}`, 'must be a string');
    if (item.length > MAX_METADATA_LENGTH) throw new ValidationError(`${field}.${key}`, `must be at most ${MAX_METADATA_LENGTH} characters`);
    if (UNSTORABLE_CHAR.test(key) || UNSTORABLE_CHAR.test(item)) throw new ValidationError(field, `must not contain ${UNSTORABLE_RULE}`);
  }
  return entries.length === 0 ? null : (value as TaskMetadata);
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
  // The text is the input again: leaving it out keeps the hash what stored rows were hashed with.
  // Webhook and metadata count only when present, so hashes of requests without them stay as they were.
  const { idempotencyKey: _key, inputText: _text, webhook, metadata, ...request } = task;
  const hashed = { ...request, ...(webhook === null ? {} : { webhook }), ...(metadata ? { metadata } : {}) };
  return createHash('sha256').update(canonicalJson(hashed)).digest('base64url');
}

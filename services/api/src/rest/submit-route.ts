import type { FastifyInstance } from 'fastify';
import { MAX_IDEMPOTENCY_KEY_LENGTH, ValidationError, type JsonValue, type NewTask } from '@tasklane/core';
import type { AppContext } from '../app-context.ts';
import { chargeRestSubmissions } from '../rate-limit/rest-rate-limit.ts';
import { HttpProblem } from './problem.ts';
import { contract } from './route-contract.ts';
import { sendTask } from './send-task.ts';
import { submitOperation, submitRequestSchema } from './submit-contract.ts';
import { tracedSubmit } from '../trace-submit.ts';

/** A property schema, as far as the checks here read it. */
interface PropertySchema {
  readonly type?: unknown;
  readonly examples?: readonly unknown[];
  readonly description?: string;
  readonly $ref?: string;
  readonly anyOf?: readonly unknown[];
}
const SUBMIT_PROPERTIES: Readonly<Record<string, PropertySchema>> = submitRequestSchema.properties;
/** The submit body's fields; anything else is refused so that a misspelt option is not ignored. */
const SUBMIT_FIELDS: ReadonlySet<string> = new Set(Object.keys(SUBMIT_PROPERTIES));
/** Whole-number fields (or null, meaning left out), refused here when of another type; the store checks their range. */
const INTEGER_FIELDS = Object.keys(SUBMIT_PROPERTIES).filter((field) => [SUBMIT_PROPERTIES[field]!.type].flat().includes('integer'));

/** The store validates with its own (camelCase) names; REST clients know these. */
const REST_FIELD_NAMES: Record<string, string> = { maxAttempts: 'max_attempts', idempotencyKey: 'Idempotency-Key' };

const PRINTABLE_KEY = new RegExp(`^[\\x20-\\x7e]{1,${MAX_IDEMPOTENCY_KEY_LENGTH}}$`);

/**
 * The `Idempotency-Key` value. The IETF draft makes it a Structured Field string (`"abc"`); bare
 * tokens are accepted too, as most clients send them. Either way: 1 to MAX_IDEMPOTENCY_KEY_LENGTH
 * printable ASCII characters.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  if (Array.isArray(header)) throw HttpProblem.invalid('Idempotency-Key', 'must be sent once');
  let key = header.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) {
    const inner = key.slice(1, -1);
    if (/(^|[^\\])"/.test(inner) || /\\(?!["\\])/.test(inner)) {
      throw HttpProblem.invalid('Idempotency-Key', 'must be a valid Structured Field string, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324"');
    }
    key = inner.replace(/\\(["\\])/g, '$1');
  }
  if (!PRINTABLE_KEY.test(key)) {
    throw HttpProblem.invalid('Idempotency-Key', `must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`);
  }
  return key;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns the JSON body into a store submission, naming the first field that is wrong: the fields,
 * the required ones and the types checked here are the body schema's (submit-contract.ts); the
 * store checks each value against the same constants the schema's limits come from.
 */
function toNewTask(body: unknown, idempotencyKey: string | null): NewTask {
  if (!isObject(body)) throw HttpProblem.invalid('body', 'must be a JSON object such as {"kind": "video", "input": {...}}');
  for (const field of Object.keys(body)) {
    if (!SUBMIT_FIELDS.has(field)) throw HttpProblem.invalid(field, `is not a submit field (allowed: ${[...SUBMIT_FIELDS].join(', ')})`);
  }
  for (const field of submitRequestSchema.required) {
    if (body[field] === undefined) throw HttpProblem.invalid(field, `is required, e.g. ${JSON.stringify(SUBMIT_PROPERTIES[field]!.examples?.[0])}`);
  }
  for (const field of INTEGER_FIELDS) {
    const value = body[field];
    if (value !== undefined && value !== null && typeof value !== 'number') throw HttpProblem.invalid(field, 'must be a whole number');
  }
  return {
    kind: body.kind as string,
    input: body.input as JsonValue | undefined,
    service: body.service as string | null | undefined,
    priority: (body.priority as number | null | undefined) ?? undefined,
    maxAttempts: (body.max_attempts as number | null | undefined) ?? undefined,
    // Checked by the store, which names `metadata` or `metadata.<key>` in its complaint.
    metadata: body.metadata as NewTask['metadata'],
    idempotencyKey,
    // Checked by the store, which names `webhook.url` or the unknown event.
    webhook: body.webhook as NewTask['webhook'],
  };
}

/**
 * `POST /api/v1/tasks`: 202 Accepted with `Location` and the task in the GET shape. With an
 * `Idempotency-Key`, a retry of the same request answers what the first one did (the draft: "the
 * result of the previously completed operation"): 202, the same task (in its current state),
 * plus `Idempotent-Replayed: true`; the same key with another body is a 422 problem.
 */
export function registerSubmitRoute(api: FastifyInstance, ctx: AppContext): void {
  api.post('/v1/tasks', contract(submitOperation, { corsRequestHeaders: ['idempotency-key'] }), async (request, reply) => {
    const idempotencyKey = parseIdempotencyKey(request.headers['idempotency-key']);
    const submission = toNewTask(request.body, idempotencyKey);
    // After validation (a malformed request costs nothing), before the write (a refused one stores nothing).
    await chargeRestSubmissions(ctx.limits, reply, request.caller.owner);
    let result;
    try {
      result = await tracedSubmit(request.headers, submission.kind, (traceParent) =>
        ctx.store.submit({ ...submission, traceParent }, { owner: request.caller.owner }),
      );
    } catch (error) {
      if (error instanceof ValidationError) throw HttpProblem.invalid(REST_FIELD_NAMES[error.field] ?? error.field, error.rule);
      throw error;
    }
    reply.header('location', `/api/v1/tasks/${result.task.id}`);
    if (result.replayed) reply.header('idempotent-replayed', 'true');
    return sendTask(reply, result.task, 202);
  });
}

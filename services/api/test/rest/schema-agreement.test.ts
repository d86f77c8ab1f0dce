import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
// A CommonJS module: under NodeNext its default import is module.exports, which has the plugin as `default`.
import ajvFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRestHarness, uniqueKind, type RestHarness } from './rest-harness.ts';

/**
 * The served OpenAPI document and the hand-written parsers agree, one way: what a client reading
 * the document would think is wrong, the server refuses with a 400 problem that names a field; and
 * whatever the server accepts (2xx, or an outcome past validation: 404, 409), the document allows.
 *
 * Each operation's request body schema (and the list route's query parameters) is compiled with
 * AJV (draft 2020-12, the document's components alongside so `$ref`s resolve), and a deterministic
 * corpus is sent to the running server: a valid body from the schema's examples, then mutations of
 * it (each required field removed, an unknown one added, each property given each JSON type, each
 * bound and bound±1, pattern, enum and format violations, null). Every disagreement is collected and
 * reported at once, so the failure says what to fix.
 *
 * The server may be stricter than the document: the store checks more than a schema says. The
 * rules where it is, as this corpus reaches them (ALLOWED_STRICTER, checked below):
 * - submit `input`: at most MAX_INPUT_BYTES and MAX_INPUT_DEPTH; no U+0000 or lone surrogates
 * - submit `webhook.url`: http:// and private or loopback addresses refused by WEBHOOK_ALLOW_* settings;
 *   no user name or password
 * - list and bulk `created_after` / `created_before`: a date-time that JavaScript cannot represent
 *   (a leap second, an offset without minutes) is refused though RFC 3339 allows it
 * - list `limit`: digits only (`+5`, ` 5`, `5.0`, `1e2` are refused though they read as the number)
 * - list and bulk `cursor`: only a cursor this server issued (the store decodes it)
 * - worker `tasks[i].task_id`: must be a task id (`<prefix>_<26 characters>`), not any string
 */

/** Field path prefixes (per operation) where the server may refuse what the schema allows. */
const ALLOWED_STRICTER: Record<string, readonly string[]> = {
  'POST /api/v1/tasks': ['input', 'webhook.url'],
  'POST /api/v1/tasks/cancel': ['created_after', 'created_before', 'cursor'],
  'POST /api/v1/tasks/retry': ['created_after', 'created_before', 'cursor'],
  'GET /api/v1/tasks': ['created_after', 'created_before', 'limit', 'cursor'],
  'POST /api/v1/workers/{worker_id}/heartbeat': ['tasks['],
  'POST /api/v1/workers/{worker_id}/release': ['tasks['],
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, any>;

/** mulberry32: the corpus is the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rng = random(0x7a5c1a7e);
const word = (length: number) => Array.from({ length }, () => 'abcdefghijklmnopqrstuvwxyz'[Math.floor(rng() * 26)]).join('');

let h: RestHarness;
let doc: any;
let ajv: Ajv2020;
let queryAjv: Ajv2020;

beforeAll(async () => {
  // Claimed tasks that a case leaves running must not fill the cluster cap for the cases after it.
  h = await startRestHarness({ MAX_CONCURRENT_TASKS: '10000' });
  doc = await (await fetch(`${h.baseUrl}/api/v1/openapi.json`)).json();
  const build = (coerceTypes: boolean) => {
    const instance = new Ajv2020({ strict: false, allErrors: false, coerceTypes });
    ajvFormats.default(instance);
    return instance;
  };
  ajv = build(false);
  // Query values are strings on the wire; OpenAPI parameters read them as their schema's type.
  queryAjv = build(true);
});
afterAll(async () => {
  await h?.close();
});

/** A schema of the document, compiled with the components beside it so `#/components/...` resolves. */
function compile(instance: Ajv2020, schema: Schema): ValidateFunction {
  return instance.compile({ ...schema, components: doc.components });
}

/** Follows `#/components/...` references (and merges `allOf`) to see what a schema declares. */
function resolve(schema: Schema): Schema {
  let s = schema;
  while (s.$ref) s = s.$ref.slice(2).split('/').reduce((node: any, key: string) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  if (s.allOf) {
    const parts = s.allOf.map(resolve);
    return {
      type: 'object',
      properties: Object.assign({}, ...parts.map((p: Schema) => p.properties ?? {})),
      required: parts.flatMap((p: Schema) => p.required ?? []),
    };
  }
  return s;
}

const TYPE_SAMPLES: readonly [string, Json][] = [
  ['a string', 'x'],
  ['an integer', 7],
  ['a fraction', 1.5],
  ['a boolean', true],
  ['null', null],
  ['an array', []],
  ['an object', {}],
];

const DATE_TIMES = [
  '2026-01-11T10:30:00Z',
  '2026-01-11T10:30:00.123+01:00',
  '2026-01-11T10:30Z',
  '2026-01-11T10:30:00',
  '2026-01-11',
  '2026',
  'yesterday',
  '2026-02-30T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-01-11T10:30:00+0100',
  '2026-01-11T10:30:00+01',
  '2026-01-11 10:30:00Z',
  '2026-01-11T23:59:60Z',
];
const URIS = ['https://example.com/hooks/ok', 'https://example.com/a b', 'https://example.com/a|b', 'https://example.com/%41', 'https://example.com/%zz', 'https://example.com/ü', ' https://example.com/', 'example.com/hooks', 'ftp://example.com/', 'not a url'];

interface Variant {
  label: string;
  value: Json | undefined;
}

/** A value the schema allows, from its examples and defaults where it has them. */
function sample(schema: Schema): Json {
  const s = resolve(schema);
  if (s.examples?.[0] !== undefined) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (s.enum) return s.enum[0];
  if (s.oneOf) return sample(s.oneOf[0]);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return 'a'.repeat(s.minLength ?? 1);
    case 'integer':
    case 'number':
      return s.minimum ?? 0;
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: s.minItems ?? 1 }, () => sample(s.items ?? {}));
    case 'object':
      return Object.fromEntries((s.required ?? []).map((k: string) => [k, sample(s.properties[k])]));
    default:
      return {};
  }
}

/** Values for one node of a body: valid ones near its limits and invalid ones of every kind. */
function variants(schema: Schema, current: Json | undefined): Variant[] {
  const s = resolve(schema);
  const out: Variant[] = TYPE_SAMPLES.map(([label, value]) => ({ label, value }));
  const base = current ?? sample(s);
  for (const branch of [...(s.oneOf ?? []), ...(s.anyOf ?? [])]) out.push(...variants(branch, undefined).map((v) => ({ ...v, label: `(branch) ${v.label}` })));
  if (s.minimum !== undefined || s.maximum !== undefined) {
    for (const [name, bound] of [['minimum', s.minimum], ['maximum', s.maximum]] as const) {
      if (bound === undefined) continue;
      for (const delta of [-1, 0, 1]) out.push({ label: `${name}${delta === 0 ? '' : delta > 0 ? '+1' : '-1'}`, value: bound + delta });
      if (s.type === 'number') out.push({ label: `${name}±0.5`, value: bound + (name === 'minimum' ? 0.5 : -0.5) });
    }
    out.push({ label: 'a fraction in range', value: ((s.minimum ?? 0) + (s.maximum ?? (s.minimum ?? 0) + 2)) / 2 + 0.25 });
  }
  if (s.minLength !== undefined || s.maxLength !== undefined) {
    for (const [name, bound] of [['minLength', s.minLength], ['maxLength', s.maxLength]] as const) {
      if (bound === undefined) continue;
      for (const delta of [-1, 0, 1]) if (bound + delta >= 0) out.push({ label: `${name}${delta === 0 ? '' : delta > 0 ? '+1' : '-1'}`, value: 'a'.repeat(bound + delta) });
    }
  }
  if (s.pattern !== undefined) {
    const text = typeof base === 'string' ? base : 'a';
    for (const value of ['', `${text}!`, text.toUpperCase(), `9${text}`, `${text}_${word(3)}9`, `a${'b'.repeat(40)}`, ` ${text}`]) out.push({ label: `pattern ${JSON.stringify(value)}`, value });
  }
  if (s.enum) out.push(...s.enum.map((value: Json) => ({ label: `enum ${value}`, value })), { label: 'not in enum', value: `not_${word(5)}` });
  if (s.format === 'date-time') out.push(...DATE_TIMES.map((value) => ({ label: `date-time ${value}`, value })));
  if (s.format === 'uri') out.push(...URIS.map((value) => ({ label: `uri ${JSON.stringify(value)}`, value })));
  if (s.type === 'array' || s.items) {
    const item = Array.isArray(base) && base.length > 0 ? base[0]! : sample(s.items ?? {});
    for (const [name, bound] of [['minItems', s.minItems], ['maxItems', s.maxItems]] as const) {
      if (bound === undefined) continue;
      for (const delta of [-1, 0, 1]) if (bound + delta >= 0) out.push({ label: `${name}${delta === 0 ? '' : delta > 0 ? '+1' : '-1'}`, value: Array.from({ length: bound + delta }, () => item) });
    }
    out.push({ label: 'empty array', value: [] });
    if (s.items) out.push(...variants(s.items, item).map((v) => ({ label: `[0] ${v.label}`, value: [v.value ?? null] })));
  }
  if (s.type === 'object' || s.properties || s.additionalProperties !== undefined) out.push(...objectVariants(s, base));
  return out;
}

function objectVariants(s: Schema, current: Json): Variant[] {
  const base = (current && typeof current === 'object' && !Array.isArray(current) ? current : {}) as Record<string, Json>;
  const out: Variant[] = [{ label: 'as given', value: base }];
  for (const field of s.required ?? []) {
    const { [field]: _gone, ...rest } = base;
    out.push({ label: `without required ${field}`, value: rest });
  }
  out.push({ label: 'an unknown field', value: { ...base, [`zz_${word(6)}`]: 1 } });
  for (const [field, property] of Object.entries<Schema>(s.properties ?? {})) {
    if (base[field] !== undefined && !(s.required ?? []).includes(field)) {
      const { [field]: _gone, ...rest } = base;
      out.push({ label: `without ${field}`, value: rest });
    }
    for (const v of variants(property, base[field])) out.push({ label: `${field}: ${v.label}`, value: { ...base, [field]: v.value ?? null } });
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    const pairs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    if (s.maxProperties !== undefined) for (const delta of [-1, 0, 1]) out.push({ label: `maxProperties${delta === 0 ? '' : delta > 0 ? '+1' : '-1'}`, value: pairs(s.maxProperties + delta) });
    for (const v of variants(s.additionalProperties, undefined)) out.push({ label: `a value: ${v.label}`, value: { k: v.value ?? null } });
    if (s.propertyNames) for (const v of variants({ type: 'string', ...s.propertyNames }, 'k')) if (typeof v.value === 'string') out.push({ label: `a key: ${v.label}`, value: { [v.value]: 'v' } });
  }
  return out;
}

/** The whole corpus of one operation: the base body and every mutation, each once. */
function corpus(schema: Schema, base: Json): Variant[] {
  const seen = new Set<string>();
  return [{ label: 'the example', value: base }, ...objectVariants(resolve(schema), base)].filter((v) => {
    const key = JSON.stringify(v.value);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

interface Outcome {
  status: number;
  contentType: string | null;
  body: any;
}

async function send(method: string, url: string, body?: Json): Promise<Outcome> {
  const response = await fetch(`${h.baseUrl}${url}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Left as text: the disagreement report shows it.
  }
  return { status: response.status, contentType: response.headers.get('content-type'), body: parsed };
}

/** Why the schema refuses a value, or undefined when it accepts it. */
type Verdict = (value: unknown) => string | undefined;

function refusal(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
}

const verdictOf = (validate: ValidateFunction): Verdict => (value) => (validate(value) ? undefined : refusal(validate));

/** What the agreement requires of one answer; the disagreement in words, or undefined. */
function judge(operation: string, label: string, sent: unknown, verdict: Verdict, outcome: Outcome): string | undefined {
  const refused = verdict(sent);
  const accepted = refused === undefined;
  const schemaSays = `the schema refuses (${refused})`;
  const shown = JSON.stringify(sent).slice(0, 160);
  const answer = `${outcome.status} ${outcome.status === 400 ? (outcome.body?.detail ?? '') : ''}`.trim();
  if (outcome.status >= 500) return `${operation} [${label}] ${shown}: server error ${answer}`;
  if (!accepted) {
    if (outcome.status !== 400) return `${operation} [${label}] ${shown}: ${schemaSays}, but the server answered ${answer}`;
    if (!outcome.contentType?.startsWith('application/problem+json')) return `${operation} [${label}] ${shown}: 400 without problem+json`;
    if (typeof outcome.body?.field !== 'string' || outcome.body.field === '') return `${operation} [${label}] ${shown}: the 400 names no field (${answer})`;
    return undefined;
  }
  if (outcome.status === 400) {
    // The server is stricter than the schema: allowed only where the store checks more.
    const field: string = outcome.body?.field ?? '';
    if (!(ALLOWED_STRICTER[operation] ?? []).some((prefix) => field.startsWith(prefix))) {
      return `${operation} [${label}] ${shown}: the schema accepts, but the server refused: ${answer}`;
    }
  }
  return undefined;
}

function bodySchema(path: string, method = 'post'): Schema {
  const schema = doc.paths[path]?.[method]?.requestBody?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`${method.toUpperCase()} ${path} declares no JSON request body`);
  return schema;
}

interface BodyRoute {
  operation: string;
  /** The body every mutation starts from: the schema's example with this test's own names in it. */
  base: () => Json;
  /** The URL to send one case to (a fresh task where a case uses one up). */
  target: () => Promise<string>;
  /** Told each answer, for a route whose cases use up what they act on. */
  answered?: (outcome: Outcome) => void;
}

async function submit(kind: string): Promise<string> {
  return (await send('POST', '/api/v1/tasks', { kind })).body.task_id;
}

async function claimOne(worker: string, kind: string): Promise<string> {
  const id = await submit(kind);
  const claimed = await send('POST', `/api/v1/workers/${worker}/claim`, { kinds: [kind], max: 1 });
  expect(claimed.body.tasks.map((t: { task_id: string }) => t.task_id)).toEqual([id]);
  return id;
}

/** A well-formed task id that no task has: writes about it are 409s (lease lost), past validation. */
const NO_TASK = 'vid_00000000000000000000000000';

describe('the request schemas and the parsers', () => {
  it('agree on every JSON body', { timeout: 120_000 }, async () => {
    const worker = 'schema-agreement';
    const claimKind = uniqueKind('agree_claim');
    const writeKind = uniqueKind('agree_write');
    const bulkKind = uniqueKind('agree_bulk');
    const example = (path: string) => doc.paths[path].post.requestBody.content['application/json'].example;
    const mediaOrSchemaExample = (path: string) => example(path) ?? sample(bodySchema(path));
    const progressTask = await claimOne(worker, writeKind);

    const routes: BodyRoute[] = [
      {
        operation: 'POST /api/v1/tasks',
        base: () => ({
          ...(mediaOrSchemaExample('/api/v1/tasks') as object),
          kind: uniqueKind('agree_submit'),
          input: { prompt: 'a cat' },
          service: 'veo3',
          priority: 0,
          max_attempts: 3,
          webhook: { url: 'https://example.com/hooks/tasklane', events: ['completed'] },
          metadata: { customer: 'acme' },
        }),
        target: async () => '/api/v1/tasks',
      },
      ...['cancel', 'retry'].map((action) => ({
        operation: `POST /api/v1/tasks/${action}`,
        base: () => ({ ...(mediaOrSchemaExample(`/api/v1/tasks/${action}`) as object), kind: [bulkKind], limit: 10 }),
        target: async () => `/api/v1/tasks/${action}`,
      })),
      {
        operation: 'POST /api/v1/workers/{worker_id}/claim',
        // No waiting: a task of the kind is runnable before every case.
        base: () => ({ ...example('/api/v1/workers/{worker_id}/claim'), kinds: [claimKind], wait: 0 }),
        target: async () => {
          await submit(claimKind);
          return `/api/v1/workers/${worker}/claim`;
        },
      },
      {
        operation: 'POST /api/v1/workers/{worker_id}/heartbeat',
        // A task this worker does not hold: the answer comes at once (it is lost), whatever the wait.
        base: () => ({ ...example('/api/v1/workers/{worker_id}/heartbeat'), tasks: [{ task_id: NO_TASK, attempt: 1 }], wait: 0 }),
        target: async () => `/api/v1/workers/${worker}/heartbeat`,
      },
      {
        operation: 'POST /api/v1/workers/{worker_id}/release',
        base: () => ({ ...example('/api/v1/workers/{worker_id}/release'), tasks: [{ task_id: NO_TASK, attempt: 1 }] }),
        target: async () => `/api/v1/workers/${worker}/release`,
      },
      {
        operation: 'POST /api/v1/workers/{worker_id}/tasks/{task_id}/progress',
        base: () => example('/api/v1/workers/{worker_id}/tasks/{task_id}/progress'),
        target: async () => `/api/v1/workers/${worker}/tasks/${progressTask}/progress`,
      },
      ...['complete', 'fail'].map((action) => {
        // A task held by this worker until a case gets past validation with it: an accepted body
        // really completes or fails a running task, and the next case gets a new one.
        let held: string | undefined;
        return {
          operation: `POST /api/v1/workers/{worker_id}/tasks/{task_id}/${action}`,
          base: () => example(`/api/v1/workers/{worker_id}/tasks/{task_id}/${action}`),
          target: async () => `/api/v1/workers/${worker}/tasks/${(held ??= await claimOne(worker, writeKind))}/${action}`,
          answered: (outcome: Outcome) => {
            if (outcome.status !== 400) held = undefined;
          },
        };
      }),
    ];

    // Every operation with a JSON body is in the corpus (the rest take none).
    const withBodies = Object.entries<any>(doc.paths).flatMap(([path, item]) =>
      Object.entries<any>(item)
        .filter(([, op]) => op?.requestBody?.content?.['application/json'])
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(withBodies.sort()).toEqual(routes.map((r) => r.operation).sort());

    const disagreements: string[] = [];
    let sentCount = 0;
    for (const route of routes) {
      const [method, path] = route.operation.split(' ') as [string, string];
      const schema = bodySchema(path);
      const valid = verdictOf(compile(ajv, schema));
      const base = route.base();
      expect(valid(base), `${route.operation}: its example is valid`).toBeUndefined();
      for (const { label, value } of corpus(schema, base)) {
        const outcome = await send(method, await route.target(), value ?? null);
        sentCount += 1;
        route.answered?.(outcome);
        const problem = judge(route.operation, label, value, valid, outcome);
        if (problem) disagreements.push(problem);
      }
    }
    expect(sentCount).toBeGreaterThan(300);
    expect(disagreements, `${disagreements.length} disagreements:\n${disagreements.join('\n')}`).toEqual([]);
  });

  it('agree on the list query', async () => {
    const operation = 'GET /api/v1/tasks';
    const parameters: Schema[] = doc.paths['/api/v1/tasks'].get.parameters.map(resolve);
    // Coercion writes into its container, so each value is checked inside an object of its own.
    const validators = new Map(parameters.map((p) => [p.name as string, compile(queryAjv, { type: 'object', properties: { value: p.schema } })]));
    // One query's verdict: every parameter's value against its schema (metadata as the object of its pairs).
    const checkQuery: Verdict = (query) => {
      for (const [name, value] of Object.entries(query as Record<string, Json>)) {
        const validate = validators.get(name)!;
        if (!validate({ value: structuredClone(value) })) return `${name}: ${refusal(validate)}`;
      }
      return undefined;
    };

    const cases: Variant[] = [{ label: 'no parameters', value: {} }];
    for (const p of parameters) {
      const values: Json[] = [];
      for (const example of Object.values<any>(p.examples ?? {})) values.push(example.value);
      if (p.name === 'metadata') {
        for (const v of objectVariants(resolve(p.schema), { customer: 'acme' })) if (v.value && typeof v.value === 'object' && !Array.isArray(v.value)) cases.push({ label: `metadata ${v.label}`, value: { metadata: v.value } });
        continue;
      }
      for (const v of variants(p.schema, values[0])) {
        if (v.value === undefined || v.value === null || typeof v.value === 'object') continue;
        values.push(String(v.value));
      }
      if (p.schema.type === 'integer') values.push('+5', ' 5', '5.0', '1e2', '0x10', '', 'abc');
      if (p.schema.type === 'string') values.push('', ',', 'pending,', ' pending ');
      for (const value of [...new Set(values)]) cases.push({ label: `${p.name}=${JSON.stringify(value)}`, value: { [p.name]: value as string } });
    }

    const disagreements: string[] = [];
    for (const { label, value } of cases) {
      const query = new URLSearchParams();
      for (const [name, v] of Object.entries(value as Record<string, Json>)) {
        if (v !== null && typeof v === 'object') for (const [key, item] of Object.entries(v)) query.append(`${name}.${key}`, typeof item === 'string' ? item : JSON.stringify(item));
        else query.append(name, String(v));
      }
      // What the server reads: strings, and the metadata pairs as an object of strings.
      const asReceived = Object.fromEntries(
        Object.entries(value as Record<string, Json>).map(([name, v]) => [
          name,
          v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([key, item]) => [key, typeof item === 'string' ? item : JSON.stringify(item)])) : String(v),
        ]),
      );
      const outcome = await send('GET', `/api/v1/tasks?${query.toString()}`);
      const problem = judge(operation, label, asReceived, checkQuery, outcome);
      if (problem) disagreements.push(problem);
    }
    expect(cases.length).toBeGreaterThan(40);
    expect(disagreements, `${disagreements.length} disagreements:\n${disagreements.join('\n')}`).toEqual([]);
  });
});

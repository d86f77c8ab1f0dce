import { httpCase, type FuzzCase, type FuzzTarget } from './fuzz-case.ts';
import { Prng } from './prng.ts';
import { fuzzHeaders } from './cases-rest.ts';
import { deepJson, handlerInput, invalidId, jsonObject, jsonValue, NASTY_STRINGS } from './values.ts';

const TASK_FIELDS = ['id', 'kind', 'status', 'progress', 'message', 'input', 'result', 'service', 'priority', 'attempts', 'maxAttempts', 'version', 'createdAt', 'updatedAt', 'runAt', 'startedAt', 'completedAt', 'finishedAt', '__typename'];
const UNKNOWN_FIELDS = ['nope', 'password', '__proto__', 'constructor', 'Task', 'id_', '_'];

/** A literal of any GraphQL type, valid or not for where it lands. */
function literal(rng: Prng, depth = 0): string {
  return rng.weighted<() => string>([
    [3, () => JSON.stringify(rng.pick(NASTY_STRINGS))],
    [2, () => String(rng.pick([0, -1, 1, 20, 1000, 1001, 2 ** 31, 2 ** 53, 1.5, -0]))],
    [1, () => rng.pick(['1e999', '0x10', '01', '-', '.5', '1.', '99999999999999999999999999'])],
    [2, () => rng.pick(['true', 'false', 'null', 'PENDING', 'COMPLETED', 'ASC', 'DESC', 'BOGUS', '$v', '$id', '$input'])],
    [1, () => '"""' + rng.text(rng.int(0, 40)).replace(/"""/g, '') + '"""'],
    [depth > 3 ? 0 : 1, () => `[${Array.from({ length: rng.int(0, 4) }, () => literal(rng, depth + 1)).join(', ')}]`],
    [depth > 3 ? 0 : 2, () => `{${Array.from({ length: rng.int(0, 4) }, () => `${rng.pick(['kind', 'input', 'service', 'priority', 'maxAttempts', 'idempotencyKey', 'runAt', 'status', 'x'])}: ${literal(rng, depth + 1)}`).join(', ')}}`],
  ])();
}

function args(rng: Prng, names: readonly string[]): string {
  if (rng.chance(0.15)) return '';
  const chosen = Array.from({ length: rng.int(1, 3) }, () => (rng.chance(0.85) ? rng.pick(names) : rng.pick(['x', 'id', 'first'])));
  return `(${chosen.map((name) => `${name}: ${literal(rng)}`).join(', ')})`;
}

function taskSelection(rng: Prng, depth = 0): string {
  const fields = Array.from({ length: rng.int(0, 6) }, () =>
    rng.weighted<() => string>([
      [8, () => rng.pick(TASK_FIELDS)],
      [1, () => 'error { type message retryable }'],
      [1, () => rng.pick(UNKNOWN_FIELDS)],
      [depth > 2 ? 0 : 1, () => `... on Task { ${taskSelection(rng, depth + 1)} }`],
      [1, () => `${rng.pick(['a', 'b', '_x'])}: ${rng.pick(TASK_FIELDS)}`],
      [1, () => `${rng.pick(TASK_FIELDS)} @${rng.pick(['include', 'skip', 'deprecated', 'nope', 'defer', 'stream'])}(if: ${rng.pick(['true', 'false', '$v', '1'])})`],
    ])(),
  );
  return fields.join(' ');
}

/** A root field of any operation type, with random arguments and selections. */
function rootField(rng: Prng): string {
  return rng.weighted<() => string>([
    [3, () => `task${args(rng, ['id'])} { ${taskSelection(rng)} }`],
    [3, () => `tasks${args(rng, ['first', 'after', 'status', 'kind', 'order', 'createdAfter', 'createdBefore'])} { edges { cursor node { ${taskSelection(rng)} } } pageInfo { hasNextPage endCursor } }`],
    [1, () => `node${args(rng, ['id'])} { id ... on Task { ${taskSelection(rng)} } }`],
    [1, () => 'queueStats { byStatus { status count } counts { kind status count } totalCapacity { cap processing } oldestPendingAgeSeconds }'],
    [2, () => `submitTask${args(rng, ['input'])} { ${taskSelection(rng)} }`],
    [1, () => `cancelTask${args(rng, ['id'])} { success message task { id status } }`],
    [1, () => `taskUpdated${args(rng, ['id'])} { ${taskSelection(rng)} }`],
    [1, () => `tasksUpdated${args(rng, ['filter'])} { id }`],
    [1, () => rng.pick(['__typename', '__schema { types { name } }', '__type(name: "Task") { fields { name } }', rng.pick(UNKNOWN_FIELDS)])],
  ])();
}

/** A document: plausible operations, pathological shapes, or text that is not GraphQL at all. */
function document(rng: Prng): string {
  return rng.weighted<() => string>([
    [
      8,
      () => {
        const type = rng.pick(['query', 'mutation', 'subscription', '', 'Query', 'fragment']);
        const vars = rng.chance(0.4) ? `(${rng.pick(['$id: ID!', '$v: Boolean', '$input: SubmitTaskInput!', '$first: Int', '$x: Nope', '$id: ID! = 1', '$id: ID, $id: ID'])})` : '';
        const name = rng.chance(0.3) ? ` ${rng.pick(['Op', 'A', 'B', '__x'])}` : '';
        return `${type}${name}${vars} { ${Array.from({ length: rng.int(1, 4) }, () => rootField(rng)).join(' ')} }`;
      },
    ],
    [1, () => `{ ${'__schema { types { fields { type { '.repeat(rng.pick([5, 50, 400]))}name${' } } } }'.repeat(rng.pick([5, 50, 400]))} }`],
    [1, () => `{ ${'a { '.repeat(rng.pick([100, 2000, 8000]))}${'}'.repeat(rng.pick([100, 2000, 8000]))} }`],
    [1, () => `{ ${Array.from({ length: rng.pick([100, 1000, 5000]) }, (_, i) => `a${i}: __typename`).join(' ')} }`],
    [1, () => `{ ${Array.from({ length: rng.pick([50, 300]) }, (_, i) => `q${i}: queueStats { totalCapacity { cap } }`).join(' ')} }`],
    [1, () => `{ ${Array.from({ length: rng.pick([50, 300]) }, (_, i) => `t${i}: tasks(first: 5) { edges { node { id input } } }`).join(' ')} }`],
    [1, () => `{ __typename ${'@include(if: true) '.repeat(rng.pick([10, 500, 2000]))}}`],
    [1, () => `query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }`],
    [1, () => `{ ${'...F '.repeat(rng.pick([10, 1000]))} } fragment F on Query { __typename }`],
    [1, () => `query A { __typename } query B { __typename }`],
    [1, () => `{ task(id: "${'x'.repeat(rng.pick([1000, 100_000]))}") { id } }`],
    [1, () => rng.text(rng.int(0, 300))],
    [1, () => rng.anyUnicode(rng.int(1, 100))],
    [1, () => rng.pick(['{', '}', '{ task(id: ) }', '{ task(id: "a" { id } }', '""" unterminated', '"\\u{110000}"', '{ a(b: "\\uD800") }', 'query ($: ID) { a }', '#comment only', ''])],
  ])();
}

/** Variables for the document: right names with wrong types, huge values, or not an object. */
function variables(rng: Prng): (target: FuzzTarget) => unknown {
  const seed = rng.nextUint32();
  const shape = rng.weighted<string>([
    [4, 'object'],
    [1, 'absent'],
    [1, 'not-object'],
    [1, 'huge'],
    [1, 'deep'],
  ]);
  return (target) => {
    const local = new Prng(seed);
    if (shape === 'absent') return undefined;
    if (shape === 'not-object') return jsonValue(local);
    if (shape === 'huge') return { input: { kind: 'image', input: { blob: 'x'.repeat(local.pick([60_000, 70_000, 300_000])) } } };
    if (shape === 'deep') return { input: { kind: 'image', input: JSON.parse(deepJson(local.pick([50, 500, 3000]), 'array')) as unknown } };
    const vars: Record<string, unknown> = jsonObject(local);
    if (local.chance(0.6)) vars.id = local.chance(0.5) ? invalidId(local, target.knownIds) : jsonValue(local);
    if (local.chance(0.5)) {
      const kind = local.pick(['image', 'video', 'decoy', 'BAD', 1, null]);
      vars.input = local.chance(0.7)
        ? { kind, input: kind === 'image' || kind === 'video' ? handlerInput(local) : jsonValue(local), service: local.chance(0.3) ? jsonValue(local) : undefined, priority: local.pick([0, 999, 1001, '1', 1.5, undefined]), idempotencyKey: local.chance(0.3) ? local.pick(NASTY_STRINGS) : undefined, runAt: local.chance(0.2) ? local.pick(['2026-01-01T00:00:00Z', 'yesterday', 0, '']) : undefined }
        : jsonValue(local);
    }
    if (local.chance(0.3)) vars.v = jsonValue(local);
    if (local.chance(0.3)) vars.first = local.pick([0, 1, 1000, 1001, -1, 2 ** 31, '10', null]);
    return vars;
  };
}

const GRAPHQL_TYPES = ['application/json', 'application/graphql+json', 'application/graphql', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=b', 'application/json; charset=utf-16', ''];
const GRAPHQL_ACCEPTS = ['application/graphql-response+json', 'application/json', 'text/event-stream', 'multipart/mixed', '*/*', 'text/html', 'application/xml', ''];

/** A GraphQL request over HTTP: POST with any body, or GET with a query string that may be broken. */
export function graphqlHttpCase(rng: Prng): FuzzCase {
  const query = document(rng);
  const vars = variables(rng);
  const operationName = rng.weighted<unknown>([
    [6, undefined],
    [1, 'Op'],
    [1, 'Missing'],
    [1, rng.pick([1, null, {}, [], '', 'x'.repeat(5000)])],
  ]);
  const extensions = rng.chance(0.1) ? jsonValue(rng) : undefined;
  const baseHeaders = fuzzHeaders(rng);
  const accept = rng.pick(GRAPHQL_ACCEPTS);
  const method = rng.weighted<string>([
    [6, 'POST'],
    [3, 'GET'],
    [1, rng.pick(['PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD'])],
  ]);
  const envelope = rng.weighted<string>([
    [8, 'normal'],
    [1, 'batched'],
    [1, 'odd'],
  ]);
  const contentType = rng.chance(0.8) ? 'application/json' : rng.pick(GRAPHQL_TYPES);
  const oddBody = rng.pick(['', '{', '[]', '{"query": 1}', '{"query": null}', '{"query": ["{a}"]}', '{"variables": {}}', '"{ __typename }"', '{"query":"{__typename}","variables":"not json"}', '{"documentId":"x"}', 'query=%7B__typename%7D']);
  const getShape = rng.weighted<string>([
    [5, 'encoded'],
    [1, 'raw'],
    [1, 'broken'],
  ]);
  const brokenQuery = rng.pick(['?query=%', '?query=%zz', '?query={', '?query=', '?', '?variables={', '?query={__typename}&variables=%7B', '?query={__typename}&query={a}', '?operationName[]=x', `?query=${'%7B'.repeat(3000)}`]);
  const headers = (t: FuzzTarget) => {
    const list = baseHeaders(t).filter(([name]) => name !== 'content-type' && name !== 'accept');
    if (accept !== '') list.push(['accept', accept]);
    return list;
  };
  return httpCase('graphql-http', (t) => {
    const variableValues = vars(t);
    if (method === 'GET' || method === 'HEAD') {
      if (getShape === 'broken') return { method, target: `/graphql${brokenQuery}`, headers: headers(t) };
      const params = new URLSearchParams();
      params.set('query', query);
      if (variableValues !== undefined) params.set('variables', JSON.stringify(variableValues) ?? '');
      if (typeof operationName === 'string') params.set('operationName', operationName);
      if (extensions !== undefined) params.set('extensions', JSON.stringify(extensions) ?? '');
      const text = getShape === 'raw' ? `query=${query}` : params.toString();
      return { method, target: `/graphql?${text}`, headers: headers(t) };
    }
    const single = { query, variables: variableValues, operationName, extensions };
    const body =
      envelope === 'odd'
        ? oddBody
        : envelope === 'batched'
          ? JSON.stringify([single, single])
          : contentType === 'application/graphql'
            ? query
            : contentType.startsWith('application/x-www-form-urlencoded')
              ? new URLSearchParams({ query }).toString()
              : JSON.stringify(single);
    const list = headers(t);
    if (contentType !== '') list.push(['content-type', contentType]);
    return { method, target: '/graphql', headers: list, body: Buffer.from(body) };
  });
}

/** A random document and variables, for the graphql-ws cases. */
export function graphqlPayload(rng: Prng): (target: FuzzTarget) => Record<string, unknown> {
  const query = document(rng);
  const vars = variables(rng);
  const operationName = rng.chance(0.2) ? rng.pick(['Op', 'Missing', '', null]) : undefined;
  return (target) => ({ query, variables: vars(target), ...(operationName !== undefined ? { operationName } : {}) });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '@tasklane/db/limits';
import { http, socket, startAuthServer, type AuthServer } from './auth-harness.ts';

/**
 * Strings that would change a query if anything concatenated them into SQL (or treated them as
 * LIKE patterns, format strings or escapes). Every one must be stored and answered verbatim.
 */
const SQLISH: readonly string[] = [
  "'; drop table tasklane.tasks; --",
  '" or 1=1 --',
  "' or '1'='1",
  "x'); delete from tasklane.api_keys; --",
  "Robert'); DROP TABLE students;--",
  '$1',
  '$2::text',
  '$$; select pg_sleep(10); $$',
  '\\x00',
  '\\',
  '\\\\',
  "\\'",
  "E'\\x41'",
  'U&"\\0041"',
  '%',
  '_',
  '%_%',
  'a%b_c',
  '[a-z]*',
  '/* comment */',
  '-- comment',
  ':name ? @p1',
  'NULL',
  '‘single’ “double” ʼmodifierʼ ＇fullwidth＇',
  'ünïcødé 💥 \t\n\r',
  '{"a": 1}',
  "'",
  '"',
];

/** The Idempotency-Key header allows printable ASCII only; these are the ones that fit it. */
const ASCII_SQLISH = SQLISH.filter((s) => /^[\x20-\x7e]{1,255}$/.test(s));

const KIND = 'sqlish';

function inputFor(s: string): Record<string, unknown> {
  return { [s]: s, prompt: s, nested: [s, { [s]: [s, null, 1] }], [`${s}:key`]: { deeper: s } };
}

/** A path segment that carries every character of `s`, percent-encoded. */
function segment(s: string): string {
  return encodeURIComponent(s);
}

describe('SQL-looking strings in every client-settable field', () => {
  let server: AuthServer;
  let key: string;
  let otherKey: string;
  const sqlishOwner = "owner'; drop table tasklane.api_keys; --";
  /** Every task the tests created, with what it was submitted with. */
  const created = new Map<string, { service: string; input: Record<string, unknown> }>();

  const gql = async (query: string, variables: Record<string, unknown>, withKey = key) => {
    const answer = await http(`${server.origin}/graphql`, { key: withKey, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    expect(answer.status, answer.body).toBeLessThan(500);
    return JSON.parse(answer.body) as { data?: Record<string, any> | null; errors?: { message: string; extensions?: { code?: string } }[] };
  };

  beforeAll(async () => {
    server = await startAuthServer();
    // The owner name comes from the operator, but it is stored and compared like any other string.
    const keys = new ApiKeyStore(server.ctx.pool);
    key = (await keys.create({ owner: sqlishOwner, name: "name'; --" })).key;
    otherKey = server.keys.bob;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('stores REST submissions verbatim: input keys and values, service and Idempotency-Key', async () => {
    for (const [i, s] of SQLISH.entries()) {
      const input = inputFor(s);
      const service = s.slice(0, 100);
      const idempotencyKey = ASCII_SQLISH[i % ASCII_SQLISH.length]! + ` #${i}`;
      const body = JSON.stringify({ kind: KIND, input, service });
      const submit = await http(`${server.origin}/api/v1/tasks`, { key, method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey }, body });
      expect(submit.status, submit.body).toBe(202);
      const id = (JSON.parse(submit.body) as { task_id: string }).task_id;
      created.set(id, { service, input });

      // The same key and body answer the same task: the key was matched exactly, as stored.
      const replay = await http(`${server.origin}/api/v1/tasks`, { key, method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey }, body });
      expect(replay.status, replay.body).toBe(202);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect((JSON.parse(replay.body) as { task_id: string }).task_id).toBe(id);

      const stored = await gql('query ($id: ID!) { task(id: $id) { id kind service input } }', { id });
      expect(stored.errors).toBeUndefined();
      expect(stored.data?.task).toEqual({ id, kind: KIND, service, input });
    }
  });

  it('keeps idempotency keys that look like LIKE patterns apart from the keys they would match', async () => {
    const body = (n: number) => JSON.stringify({ kind: KIND, input: { n } });
    const post = async (idempotencyKey: string, n: number) => {
      const answer = await http(`${server.origin}/api/v1/tasks`, { key, method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey }, body: body(n) });
      expect(answer.status, answer.body).toBe(202);
      const id = (JSON.parse(answer.body) as { task_id: string }).task_id;
      created.set(id, { service: '', input: { n } });
      return { id, replayed: answer.headers['idempotent-replayed'] === 'true' };
    };
    const plain = await post('abc', 1);
    // `%` and `_` match "abc" as LIKE patterns, `a%` too; as keys they are different keys.
    for (const [n, pattern] of ['%', '_bc', 'a%', "abc' or '1'='1"].entries()) {
      const other = await post(pattern, n + 2);
      expect(other.replayed).toBe(false);
      expect(other.id).not.toBe(plain.id);
    }
  });

  it('stores GraphQL submissions verbatim, variables and idempotency keys included', async () => {
    for (const s of SQLISH) {
      const input = inputFor(s);
      const service = s.slice(0, 100);
      const variables = { input: { kind: KIND, input, service, idempotencyKey: `gql ${s}` } };
      const mutation = 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id service input } }';
      const first = await gql(mutation, variables);
      expect(first.errors).toBeUndefined();
      const task = first.data?.submitTask as { id: string; service: string; input: unknown };
      expect(task).toMatchObject({ service, input });
      created.set(task.id, { service, input });

      const again = await gql(mutation, variables);
      expect(again.data?.submitTask?.id).toBe(task.id);
      const rest = await http(`${server.origin}/api/v1/tasks/${task.id}`, { key });
      expect(rest.status).toBe(200);
      expect(JSON.parse(rest.body)).toMatchObject({ task_id: task.id, status: 'pending' });
    }
  });

  it('answers SQL-looking ids, filters and cursors with 4xx or not found, never a server error', async () => {
    for (const s of SQLISH) {
      for (const method of ['GET', 'DELETE']) {
        const answer = await http(`${server.origin}/api/v1/tasks/${segment(s)}`, { key, method });
        expect(answer.status, `${method} ${s}: ${answer.body}`).toBe(404);
      }
      const events = await http(`${server.origin}/api/v1/tasks/${segment(s)}/events`, { key });
      expect(events.status, events.body).toBe(404);
      for (const param of ['status', 'kind', 'cursor', 'created_after', 'created_before', 'limit', 'order']) {
        const answer = await http(`${server.origin}/api/v1/tasks?${param}=${encodeURIComponent(s)}`, { key });
        expect(answer.status, `${param}=${s}: ${answer.body}`).toBe(400);
        expect(JSON.parse(answer.body).detail).toContain(param);
      }

      const byId = await gql('query ($id: ID!) { task(id: $id) { id } node(id: $id) { id } }', { id: s });
      expect(byId.errors?.map((e) => e.extensions?.code)).toContain('NOT_FOUND');
      const cancel = await gql('mutation ($id: ID!) { cancelTask(id: $id) { success } }', { id: s });
      expect(cancel.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const page = await gql('query ($after: String, $kind: [String!]) { tasks(after: $after, kind: $kind) { edges { node { id } } } }', { after: s, kind: null });
      expect(page.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const kinds = await gql('query ($kind: [String!]) { tasks(kind: $kind) { edges { node { id } } } }', { kind: [s] });
      expect(kinds.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

      const closed = await socket(`${server.origin.replace('http', 'ws')}/ws/tasks/${segment(s)}`, { headers: { authorization: `Bearer ${key}` } });
      expect(closed.code).toBe(4404);
    }
    // The close reason quotes the id; 60 characters of emoji would be 240 bytes, past WebSocket's 123.
    const long = await socket(`${server.origin.replace('http', 'ws')}/ws/tasks/${segment('💥'.repeat(60))}`, { headers: { authorization: `Bearer ${key}` } });
    expect(long.code).toBe(4404);
  });

  it('refuses U+0000 and unpaired surrogates, which Postgres cannot store, with a 400 naming the field', async () => {
    const post = (body: string) => http(`${server.origin}/api/v1/tasks`, { key, method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const cases: [string, string][] = [
      [JSON.stringify({ kind: KIND, input: { a: 'x\u0000y' } }), 'input'],
      [JSON.stringify({ kind: KIND, input: { 'x\u0000': 1 } }), 'input'],
      [JSON.stringify({ kind: KIND, input: ['\ud800'] }), 'input'],
      [`{"kind":"${KIND}","input":1e999}`, 'input'],
      [JSON.stringify({ kind: KIND, service: 'veo\u0000' }), 'service'],
      [JSON.stringify({ kind: KIND, service: '\udc00veo' }), 'service'],
    ];
    for (const [body, field] of cases) {
      const answer = await post(body);
      expect(answer.status, `${body}: ${answer.body}`).toBe(400);
      expect(JSON.parse(answer.body).detail).toContain(field);
    }
    const gqlAnswer = await gql('mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', { input: { kind: KIND, idempotencyKey: 'k\u0000' } });
    expect(gqlAnswer.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
  });

  it('lists exactly the tasks it stored, for their owner only, and leaves the tables intact', async () => {
    const seen = new Map<string, { service: string | null; input: unknown }>();
    let after: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof gql>> = await gql('query ($after: String) { tasks(first: 50, after: $after, kind: ["sqlish"]) { edges { node { id service input } } pageInfo { hasNextPage endCursor } } }', { after });
      expect(page.errors).toBeUndefined();
      for (const { node } of page.data!.tasks.edges as { node: { id: string; service: string | null; input: unknown } }[]) seen.set(node.id, { service: node.service, input: node.input });
      after = page.data!.tasks.pageInfo.hasNextPage ? (page.data!.tasks.pageInfo.endCursor as string) : null;
    } while (after !== null);
    expect([...seen.keys()].sort()).toEqual([...created.keys()].sort());
    for (const [id, want] of created) {
      expect(seen.get(id)?.input).toEqual(want.input);
      if (want.service !== '') expect(seen.get(id)?.service).toBe(want.service);
    }

    // Another owner sees none of them: the SQL-looking owner name scoped every read.
    const other = await http(`${server.origin}/api/v1/tasks?kind=${KIND}`, { key: otherKey });
    expect(JSON.parse(other.body)).toEqual([]);

    const { rows } = await server.ctx.pool.query<{ tasks: string; keys: string; owners: string[] }>(
      `select (select count(*) from tasklane.tasks) as tasks,
              (select count(*) from tasklane.api_keys) as keys,
              (select array_agg(distinct owner) from tasklane.tasks) as owners`,
    );
    expect(Number(rows[0]!.tasks)).toBe(created.size);
    // startAuthServer's four keys and this test's one.
    expect(Number(rows[0]!.keys)).toBe(5);
    expect(rows[0]!.owners).toEqual([sqlishOwner]);
  });
});

import Fastify, { type RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KIND_PATTERN,
  MAX_ATTEMPTS_LIMIT,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_METADATA_PAIRS,
  MAX_OWNER_LENGTH,
  MAX_PRIORITY,
  MAX_SERVICE_LENGTH,
  MAX_WEBHOOK_URL_LENGTH,
} from '@tasklane/core';
import { MAX_BULK_LIMIT, MAX_LIST_LIMIT } from '@tasklane/db';
import { DEFAULT_LIST_LIMIT } from '../../src/rest/list-contract.ts';
import { collectRestRoutes } from '../../src/rest/openapi.ts';
import { MAX_WAIT_SECONDS } from '../../src/rest/polling.ts';
import { registerRest } from '../../src/rest/register.ts';
import { MAX_CLAIM, MAX_CLAIM_KINDS, MAX_ERROR_TYPE_LENGTH, MAX_HELD, WORKER_ID_PATTERN } from '../../src/rest/worker-contract.ts';
import { startRestHarness, type RestHarness } from './rest-harness.ts';

/** The document's paths as `METHOD /path` (OpenAPI braces), path-level `parameters` left out. */
function describedOperations(paths: Record<string, Record<string, unknown>>): string[] {
  return Object.entries(paths).flatMap(([path, item]) => Object.keys(item).filter((k) => k !== 'parameters').map((m) => `${m.toUpperCase()} ${path}`));
}

let h: RestHarness;
let doc: any;
beforeAll(async () => {
  h = await startRestHarness();
  doc = await (await fetch(`${h.baseUrl}/api/v1/openapi.json`)).json();
});
afterAll(async () => {
  await h.close();
});

describe('the generated OpenAPI paths', () => {
  it('describe every route registered under /api, and only routes that exist', async () => {
    // The route table, as Fastify reports it while the REST layer registers (HEAD is Fastify's own twin of GET).
    const app = Fastify();
    const registered: string[] = [];
    app.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) if (method !== 'HEAD') registered.push(`${method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
    });
    await registerRest(app, h.ctx);
    await app.ready();
    const served = JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).body);
    await app.close();

    const described = describedOperations(served.paths);
    const underApi = registered.filter((route) => route.split(' ')[1]!.startsWith('/api/'));
    expect(underApi.length).toBeGreaterThan(20);
    expect(described.filter((op) => op.split(' ')[1]!.startsWith('/api/')).sort()).toEqual([...underApi].sort());
    // What is described outside /api is a route of the server too (the seed's WebSocket path).
    for (const op of described.filter((o) => !o.split(' ')[1]!.startsWith('/api/'))) expect(registered, op).toContain(op);
    // And the running server routes every described operation.
    for (const op of describedOperations(doc.paths)) {
      const [method, path] = op.split(' ') as [string, string];
      expect(h.app.hasRoute({ method: method as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }), op).toBe(true);
    }
    expect(served).toEqual(doc);
  });

  it('gives every path parameter its declared component', () => {
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = (item.parameters ?? []).map((p: { $ref: string }) => doc.components.parameters[p.$ref.split('/').pop()!].name);
      expect(declared, path).toEqual(names);
    }
  });

  it('refuses, at registration, a route under /api that declares no operation', async () => {
    const app = Fastify();
    await expect(
      app.register(async (api) => {
        collectRestRoutes(api);
        api.get('/v1/undocumented', async () => 'x');
      }),
    ).rejects.toThrow(/GET \/v1\/undocumented declares no OpenAPI operation/);
    await app.close().catch(() => {});
  });
});

describe('the limits in the document', () => {
  it('are the code\'s constants', () => {
    const { schemas, parameters } = doc.components;
    const submit = schemas.SubmitRequest.properties;
    expect(submit.kind.pattern).toBe(KIND_PATTERN.source);
    expect(submit.priority.maximum).toBe(MAX_PRIORITY);
    expect(submit.priority.minimum).toBe(-MAX_PRIORITY);
    expect(submit.max_attempts.maximum).toBe(MAX_ATTEMPTS_LIMIT);
    expect(submit.service.maxLength).toBe(MAX_SERVICE_LENGTH);
    expect(schemas.Webhook.properties.url.maxLength).toBe(MAX_WEBHOOK_URL_LENGTH);
    expect(schemas.Metadata.maxProperties).toBe(MAX_METADATA_PAIRS);
    expect(parameters.IdempotencyKey.schema.maxLength).toBe(MAX_IDEMPOTENCY_KEY_LENGTH + 2);
    expect(parameters.Owner.schema.maxLength).toBe(MAX_OWNER_LENGTH);

    const limit = doc.paths['/api/v1/tasks'].get.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ minimum: 1, maximum: MAX_LIST_LIMIT, default: DEFAULT_LIST_LIMIT });
    expect(parameters.Wait.schema.maximum).toBe(MAX_WAIT_SECONDS);
    expect(schemas.BulkRequest.properties.limit).toMatchObject({ maximum: MAX_BULK_LIMIT, default: MAX_BULK_LIMIT });
    expect(parameters.Kind.schema.pattern).toBe(KIND_PATTERN.source);
    expect(schemas.BulkRequest.properties.kind.oneOf[0].pattern).toBe(KIND_PATTERN.source);

    const claim = schemas.ClaimRequest.properties;
    expect(claim.kinds.maxItems).toBe(MAX_CLAIM_KINDS);
    expect(claim.kinds.items.pattern).toBe(KIND_PATTERN.source);
    expect(claim.max.maximum).toBe(MAX_CLAIM);
    expect(claim.wait.maximum).toBe(MAX_WAIT_SECONDS);
    expect(schemas.HeartbeatRequest.properties.wait.maximum).toBe(MAX_WAIT_SECONDS);
    expect(schemas.HeldTasks.properties.tasks.maxItems).toBe(MAX_HELD);
    const fail = doc.paths['/api/v1/workers/{worker_id}/tasks/{task_id}/fail'].post.requestBody.content['application/json'].schema;
    expect(fail.properties.error.properties.type.maxLength).toBe(MAX_ERROR_TYPE_LENGTH);
    const complete = doc.paths['/api/v1/workers/{worker_id}/tasks/{task_id}/complete'].post.requestBody.content['application/json'].schema;
    expect(complete.properties.service.maxLength).toBe(MAX_SERVICE_LENGTH);
    expect(parameters.WorkerId.schema.pattern).toBe(WORKER_ID_PATTERN.source);
  });

  it('are what the routes enforce', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${h.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
    // The allowed submit fields are the body schema's properties, in its order.
    const unknown = await post('/api/v1/tasks', { kind: 'video', colour: 'red' });
    expect(unknown.rule).toBe(`is not a submit field (allowed: ${Object.keys(doc.components.schemas.SubmitRequest.properties).join(', ')})`);
    expect((await post('/api/v1/tasks/cancel', { tag: 'x' })).rule).toBe(`is not a filter field (allowed: ${Object.keys(doc.components.schemas.BulkRequest.properties).join(', ')})`);
    expect((await post('/api/v1/tasks/cancel', { limit: MAX_BULK_LIMIT + 1 })).rule).toBe(`must be a whole number from 1 to ${MAX_BULK_LIMIT}`);
    const tooMany = await (await fetch(`${h.baseUrl}/api/v1/tasks?limit=${MAX_LIST_LIMIT + 1}`)).json();
    expect(tooMany.rule).toBe(`must be a whole number from 1 to ${MAX_LIST_LIMIT}`);
    const atMost = await fetch(`${h.baseUrl}/api/v1/tasks?limit=${MAX_LIST_LIMIT}`);
    expect(atMost.status).toBe(200);
    const waitTooLong = await (await fetch(`${h.baseUrl}/api/v1/tasks/vid_00000000000000000000000000?wait=${MAX_WAIT_SECONDS + 1}`)).json();
    expect(waitTooLong.rule).toBe(`must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`);
    const claim = await post('/api/v1/workers/openapi-limits/claim', { kinds: ['video'], max: MAX_CLAIM + 1 });
    expect(claim.rule).toBe(`must be a whole number from 1 to ${MAX_CLAIM}`);
  });
});

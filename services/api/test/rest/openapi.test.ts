import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startRestHarness, type RestHarness } from './rest-harness.ts';

let h: RestHarness;
beforeAll(async () => {
  h = await startRestHarness();
});
afterAll(async () => {
  await h.close();
});

describe('GET /api/v1/openapi.json', () => {
  it('serves an OpenAPI 3.1 document that the validator accepts', async () => {
    const response = await fetch(`${h.baseUrl}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Record<string, unknown>;
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('resolves every $ref it uses', async () => {
    const document = await (await fetch(`${h.baseUrl}/api/v1/openapi.json`)).json();
    const validator = new Validator();
    await validator.validate(document as Record<string, unknown>);
    const resolved = JSON.stringify(validator.resolveRefs());
    expect(resolved).not.toContain('"$ref"');
  });

  it('describes every REST endpoint and method the server answers', async () => {
    const document = (await (await fetch(`${h.baseUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const described = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).filter((k) => k !== 'parameters').map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(described.sort()).toEqual(
      [
        'POST /api/v1/tasks',
        'GET /api/v1/tasks',
        'GET /api/v1/tasks/{task_id}',
        'DELETE /api/v1/tasks/{task_id}',
        'GET /api/v1/tasks/{task_id}/events',
        'POST /api/v1/tasks/{task_id}/retry',
        'POST /api/v1/tasks/cancel',
        'POST /api/v1/tasks/retry',
        'POST /api/v1/kinds/{kind}/pause',
        'POST /api/v1/kinds/{kind}/resume',
        'POST /api/v1/tasks/{task_id}/stream-token',
        'GET /api/v1/tasks/{task_id}/webhooks',
        'POST /api/v1/tasks/{task_id}/webhooks/redeliver',
        'GET /api/v1/webhooks/secret',
        'POST /api/v1/webhooks/secret/rotate',
        'GET /ws/tasks/{task_id}',
        'GET /api/v1/openapi.json',
        'GET /api/docs',
        'POST /api/v1/workers/{worker_id}/claim',
        'POST /api/v1/workers/{worker_id}/heartbeat',
        'POST /api/v1/workers/{worker_id}/release',
        'POST /api/v1/workers/{worker_id}/tasks/{task_id}/progress',
        'POST /api/v1/workers/{worker_id}/tasks/{task_id}/complete',
        'POST /api/v1/workers/{worker_id}/tasks/{task_id}/fail',
      ].sort(),
    );
    // And each one is routed: none of them is the catch-all 404 problem.
    for (const entry of described) {
      const [method, path] = entry.split(' ') as [string, string];
      if (path.startsWith('/ws/')) continue;
      const url = path.replace('{task_id}', 'vid_00000000000000000000000000').replace('{worker_id}', 'openapi-test').replace('{kind}', 'openapi_kind');
      const response = await fetch(`${h.baseUrl}${url}`, {
        method,
        ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
      });
      const text = await response.text();
      expect(text, entry).not.toContain('No route');
    }
  });

  it('gives every worker protocol operation a request example and an example answer', async () => {
    const document = (await (await fetch(`${h.baseUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> };
    const workerOps = Object.entries(document.paths).filter(([path]) => path.startsWith('/api/v1/workers/'));
    expect(workerOps).toHaveLength(6);
    for (const [path, item] of workerOps) {
      expect(item.post.requestBody.content['application/json'].example, path).toBeDefined();
      expect(item.post.responses['200'].content['application/json'].example, path).toBeDefined();
    }
  });
});

describe('GET /api/docs', () => {
  it('renders the reference as one self-contained HTML page', async () => {
    const response = await fetch(`${h.baseUrl}/api/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>/);
    for (const operation of ['submitTask', 'listTasks', 'getTask', 'cancelTask', 'taskEvents', 'taskSocket', 'workerClaim', 'workerHeartbeat', 'workerFail']) {
      expect(html).toContain(`id="${operation}"`);
    }
    expect(html).toContain('/api/v1/tasks/{task_id}');
    // Nothing to fetch at run time but the API's own icon: no scripts, stylesheets or images from elsewhere.
    expect(html.replace('<link rel="icon" href="/favicon.svg" type="image/svg+xml">', '')).not.toMatch(/<script|<link|<img|src=/i);
    expect((await fetch(`${h.baseUrl}/favicon.svg`)).headers.get('content-type')).toBe('image/svg+xml');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRestHarness, uniqueKind, type RestHarness } from './rest-harness.ts';

let h: RestHarness;
beforeAll(async () => {
  h = await startRestHarness();
});
afterAll(async () => {
  await h.close();
});

interface Item {
  task_id: string;
  status: string;
}

async function submitMany(kind: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${h.baseUrl}/api/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind, input: { i } }),
    });
    ids.push(((await response.json()) as Item).task_id);
  }
  return ids;
}

/** Follows `Link: <…>; rel="next"` to the end, collecting every item. */
async function walk(path: string): Promise<{ items: Item[]; pages: number }> {
  const items: Item[] = [];
  let pages = 0;
  let next: string | undefined = path;
  while (next) {
    const response: Response = await fetch(`${h.baseUrl}${next}`);
    expect(response.status).toBe(200);
    items.push(...((await response.json()) as Item[]));
    pages += 1;
    const link: string | null = response.headers.get('link');
    next = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : undefined;
  }
  return { items, pages };
}

describe('GET /api/v1/tasks', () => {
  it('pages through every task once by following the Link header, oldest first, keeping the filters', async () => {
    const kind = uniqueKind('page');
    const ids = await submitMany(kind, 7);
    await submitMany(uniqueKind('other'), 2);
    const first = await fetch(`${h.baseUrl}/api/v1/tasks?kind=${kind}&limit=3`);
    expect(first.headers.get('link')).toMatch(new RegExp(`^</api/v1/tasks\\?kind=${kind}&limit=3&cursor=[A-Za-z0-9_-]+>; rel="next"$`));
    const { items, pages } = await walk(`/api/v1/tasks?kind=${kind}&limit=3`);
    expect(pages).toBe(3);
    expect(items.map((i) => i.task_id)).toEqual(ids);
    const desc = await walk(`/api/v1/tasks?kind=${kind}&limit=2&order=desc`);
    expect(desc.items.map((i) => i.task_id)).toEqual([...ids].reverse());
  });

  it('sends no Link on the last page', async () => {
    const kind = uniqueKind('last');
    await submitMany(kind, 2);
    const response = await fetch(`${h.baseUrl}/api/v1/tasks?kind=${kind}&limit=2`);
    expect(response.headers.get('link')).toBeNull();
    expect(((await response.json()) as Item[]).length).toBe(2);
  });

  it('filters by comma-separated statuses and by creation time', async () => {
    const kind = uniqueKind('filt');
    const [a, b, c] = await submitMany(kind, 3);
    await h.worker.claim(kind);
    await h.worker.complete(a!, { ok: true });
    await fetch(`${h.baseUrl}/api/v1/tasks/${b}`, { method: 'DELETE' });
    const statuses = async (query: string) => ((await (await fetch(`${h.baseUrl}/api/v1/tasks?kind=${kind}&${query}`)).json()) as Item[]).map((i) => i.task_id);
    expect(await statuses('status=completed,cancelled')).toEqual([a, b]);
    expect(await statuses('status=pending&status=completed')).toEqual([a, c]);
    expect(await statuses('status=failed')).toEqual([]);

    const created = (await h.ctx.store.get(b!))!.createdAt;
    const before = new Date(created.getTime() + 1).toISOString();
    const after = new Date(created.getTime() - 1).toISOString();
    expect(await statuses(`created_before=${encodeURIComponent(before)}`)).toEqual([a, b]);
    expect(await statuses(`created_after=${encodeURIComponent(after)}`)).toEqual([b, c]);
    // An offset written with an unencoded "+" (which decodes to a space) still means the offset.
    const plusOffset = new Date(created.getTime() + 3_600_000 - 1).toISOString().replace('Z', '+01:00');
    expect(await statuses(`created_after=${plusOffset}`)).toEqual([b, c]);
  });

  it.each([
    ['limit=0', 'limit', 'limit: must be a whole number from 1 to 1000'],
    ['limit=1001', 'limit', 'limit: must be a whole number from 1 to 1000'],
    ['limit=ten', 'limit', 'limit: must be a whole number from 1 to 1000'],
    ['limit=1&limit=2', 'limit', 'limit: must be given once'],
    ['status=done', 'status', 'status: "done" is not a status (allowed: pending, processing, completed, failed, cancelled)'],
    ['status=pending,,failed', 'status', 'status: must not contain empty values'],
    ['kind=Video', 'kind', 'kind: "Video" is not a kind (1-32 lowercase letters, digits or _, starting with a letter)'],
    ['order=newest', 'order', 'order: must be asc or desc'],
    ['created_after=yesterday', 'created_after', 'created_after: must be an RFC 3339 date-time such as 2026-01-11T10:30:00Z'],
    ['created_before=2026-02-30T10:00:00', 'created_before', 'created_before: must be an RFC 3339 date-time such as 2026-01-11T10:30:00Z'],
    ['cursor=bm90LWEtY3Vyc29y', 'cursor', 'cursor: is not a cursor this server issued; pass the value from the previous page unchanged'],
  ])('refuses %s with a 400 naming %s', async (query, field, detail) => {
    const response = await fetch(`${h.baseUrl}/api/v1/tasks?${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await response.json()).toMatchObject({ type: 'https://tasklane.dev/problems/invalid-request', status: 400, field, detail });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reader, startTestServer, submit, until, type TestServer } from './test-server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const WATCH = `subscription Watch($id: ID!) { taskUpdated(id: $id) { id status version queue { position ahead etaSeconds waitingFor } } }`;
const WATCH_ALL = `subscription WatchAll($kind: [String!]) { tasksUpdated(filter: { kind: $kind }) { id status version queue { position ahead } } }`;
const SEED_KEYS = ['task_id', 'status', 'progress', 'created_at', 'updated_at', 'completed_at', 'result', 'error'];

async function submitMany(kind: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await submit(server, { kind }))['id'] as string);
  return ids;
}

/** Reads SSE events off a response, one at a time. */
function sseEvents(response: Response) {
  const body = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next(): Promise<{ id: string; data: Record<string, any> }> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (id !== undefined && data !== undefined) return { id, data: JSON.parse(data) as Record<string, any> };
          continue;
        }
        const chunk = await body.read();
        if (chunk.done) throw new Error('stream ended');
        buffer += chunk.value;
      }
    },
    stop: () => body.cancel(),
  };
}

describe('queue pushes', () => {
  it('counts a taskUpdated subscriber down to position 1 as the tasks ahead start, over graphql-ws and SSE, at the same version', async () => {
    const kind = 'qp_count';
    const ids = await submitMany(kind, 4);
    const mine = ids[3]!;
    const overWs = reader(server.ws().iterate({ query: WATCH, variables: { id: mine } }));
    const overSse = reader(server.sse().iterate({ query: WATCH, variables: { id: mine } }));
    for (const events of [overWs, overSse]) expect(await events.next()).toMatchObject({ status: 'PENDING', version: 1, queue: { position: 4, ahead: 3 } });
    for (const position of [3, 2, 1]) {
      await server.worker.claim(kind);
      for (const events of [overWs, overSse]) expect(await events.next()).toMatchObject({ status: 'PENDING', version: 1, queue: { position, ahead: position - 1 } });
    }
    await server.worker.claim(kind);
    for (const events of [overWs, overSse]) expect(await events.next()).toMatchObject({ status: 'PROCESSING', version: 2, queue: null });
    await overWs.stop();
    await overSse.stop();
  });

  it('pushes a task at most once a second over a burst of claims', async () => {
    const kind = 'qp_burst';
    const ids = await submitMany(kind, 12);
    const events = reader(server.ws().iterate({ query: WATCH, variables: { id: ids[11] } }));
    expect((await events.next())['queue'].position).toBe(12);
    const started = Date.now();
    for (let i = 0; i < 10; i++) await server.worker.claim(kind);
    let pushes = 0;
    for (let position = 12; position > 2; pushes++) position = (await events.next())['queue'].position as number;
    const elapsed = Date.now() - started;
    // Rounds are at least a second apart and push a task once each: pushes <= whole seconds + 1.
    expect(pushes).toBeGreaterThanOrEqual(1);
    expect(pushes).toBeLessThanOrEqual(Math.floor(elapsed / 1000) + 1);
    await events.stop();
  });

  it('brings a dashboard (tasksUpdated) the moved place of a pending task it saw', async () => {
    const kind = 'qp_all';
    const events = reader(server.ws().iterate({ query: WATCH_ALL, variables: { kind: [kind] } }), 'tasksUpdated');
    // tasksUpdated has no initial state: only changes after the server counts the subscription reach it.
    await until(() => server.ctx.feed.size.everyTask > 0, 'the dashboard subscription');
    const ids = await submitMany(kind, 2);
    // Both submissions arrive first (each with its place), then the second task's place moves.
    const seen = [await events.next(), await events.next()];
    expect(seen.map((e) => e['id'])).toEqual(ids);
    expect(seen[1]).toMatchObject({ status: 'PENDING', queue: { position: 2 } });
    await server.worker.claim(kind);
    // The claimed task's own change, and the push for the one behind it, in either order.
    const next = [await events.next(), await events.next()];
    expect(next.find((e) => e['id'] === ids[0])).toMatchObject({ status: 'PROCESSING' });
    expect(next.find((e) => e['id'] === ids[1])).toMatchObject({ status: 'PENDING', version: 1, queue: { position: 1 } });
    await events.stop();
  });

  it('counts the REST event stream with ?view=full down too, ids <version>.<n>, and leaves the plain stream to row changes', async () => {
    const kind = 'qp_rest';
    const ids = await submitMany(kind, 3);
    const mine = ids[2]!;
    const full = sseEvents(await fetch(`${server.origin}/api/v1/tasks/${mine}/events?view=full`));
    const plain = sseEvents(await fetch(`${server.origin}/api/v1/tasks/${mine}/events`));
    const first = await full.next();
    expect(first.data).toMatchObject({ status: 'pending', queue: { position: 3, ahead: 2 } });
    expect(first.data['message']).toMatch(/^Waiting: 2 ahead/);
    const plainFirst = await plain.next();
    expect(plainFirst.id).toBe('1');
    expect(Object.keys(plainFirst.data)).toEqual(SEED_KEYS);

    const pushIds: string[] = [];
    for (const position of [2, 1]) {
      await server.worker.claim(kind);
      const event = await full.next();
      expect(event.data).toMatchObject({ status: 'pending', version: 1, queue: { position } });
      expect(event.data['message']).toMatch(position === 1 ? /^Waiting: next to start/ : /^Waiting: 1 ahead/);
      expect(event.id).toMatch(/^1\.\d+$/);
      pushIds.push(event.id);
    }
    expect(Number(pushIds[1]!.split('.')[1])).toBeGreaterThan(Number(pushIds[0]!.split('.')[1]));

    // Resuming after a push of version 1 gives the current place again, not nothing.
    const resumed = sseEvents(await fetch(`${server.origin}/api/v1/tasks/${mine}/events?view=full`, { headers: { 'last-event-id': pushIds[1]! } }));
    expect((await resumed.next()).data).toMatchObject({ version: 1, queue: { position: 1 } });
    await resumed.stop();

    // The plain stream got none of those pushes: its next event is the next row version.
    await server.ctx.store.cancel(mine);
    const plainNext = await plain.next();
    expect(plainNext.id).toBe('2');
    expect(plainNext.data).toMatchObject({ status: 'cancelled' });
    expect(Object.keys(plainNext.data)).toEqual(SEED_KEYS);
    expect((await full.next()).data).toMatchObject({ status: 'cancelled', queue: null });
    await full.stop();
    await plain.stop();
  });
});

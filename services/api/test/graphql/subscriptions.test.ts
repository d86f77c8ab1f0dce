import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '@tasklane/core';
import { FOLLOW, reader, startTestServer, submit, TASK_FIELDS, until, type TestServer } from './test-server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

type Event = Record<string, any>;

async function followThroughLifecycle(kind: string, open: (id: string) => ReturnType<typeof reader>): Promise<Event[]> {
  const { worker } = server;
  const task = await submit(server, { kind, service: 'veo3' });
  const events = open(task['id']);
  const seen: Event[] = [await events.next()];
  expect(seen[0]).toMatchObject({ id: task['id'], status: 'PENDING', version: 1 });
  const held = await worker.claim(kind);
  seen.push(await events.next());
  expect(seen[1]).toMatchObject({ status: 'PROCESSING', attempts: 1, progress: 0 });
  await worker.progress(held, 40, 'Rendering frames');
  seen.push(await events.next());
  expect(seen[2]).toMatchObject({ status: 'PROCESSING', progress: 40, message: 'Rendering frames' });
  await worker.complete(held, { video_url: 'https://cdn.example.com/v.mp4' });
  seen.push(await events.next());
  expect(seen[3]).toMatchObject({ status: 'COMPLETED', progress: 100, result: { video_url: 'https://cdn.example.com/v.mp4' } });
  expect(await events.ended()).toBe(true);
  const versions = seen.map((e) => e['version'] as number);
  expect(versions.every((v, i) => i === 0 || v > versions[i - 1]!)).toBe(true);
  return seen;
}

describe('taskUpdated', () => {
  it('follows a task from pending to completed over graphql-ws, versions strictly increasing', async () => {
    const client = server.ws();
    await followThroughLifecycle('ws_life', (id) => reader(client.iterate({ query: FOLLOW, variables: { id } })));
  });

  it('follows a task from pending to completed over SSE (graphql-sse client)', async () => {
    const client = server.sse();
    await followThroughLifecycle('sse_life', (id) => reader(client.iterate({ query: FOLLOW, variables: { id } })));
  });

  it('follows a task over a raw SSE response from Yoga', async () => {
    const { worker } = server;
    const task = await submit(server, { kind: 'sse_raw' });
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: FOLLOW, variables: { id: task['id'] } }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const body = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const waitFor = async (needle: string) => {
      while (!text.includes(needle)) {
        const chunk = await body.read();
        if (chunk.done) throw new Error(`stream ended before ${needle}`);
        text += chunk.value;
      }
    };
    await waitFor('"PENDING"');
    await worker.complete(await worker.claim('sse_raw'), {});
    await waitFor('event: complete');
    const payloads = [...text.matchAll(/^data: (\{.*\})$/gm)].map((m) => JSON.parse(m[1]!).data.taskUpdated.status);
    expect(payloads[0]).toBe('PENDING');
    expect(payloads.at(-1)).toBe('COMPLETED');
  });

  it('gives a late subscriber the current state first', async () => {
    const { worker } = server;
    const task = await submit(server, { kind: 'ws_late' });
    const held = await worker.claim('ws_late');
    await worker.progress(held, 70, 'Almost there');
    const events = reader(server.ws().iterate({ query: FOLLOW, variables: { id: task['id'] } }));
    expect(await events.next()).toMatchObject({ status: 'PROCESSING', progress: 70, message: 'Almost there', version: 3 });
    await worker.complete(held, { ok: 1 });
    expect(await events.next()).toMatchObject({ status: 'COMPLETED', version: 4 });
    expect(await events.ended()).toBe(true);
  });

  it('emits a finished task once and completes', async () => {
    const task = await submit(server, { kind: 'ws_finished' });
    await server.gql(`mutation($id: ID!) { cancelTask(id: $id) { success } }`, { id: task['id'] });
    const events = reader(server.ws().iterate({ query: FOLLOW, variables: { id: task['id'] } }));
    expect(await events.next()).toMatchObject({ status: 'CANCELLED', version: 2 });
    expect(await events.ended()).toBe(true);
  });

  it('ends another client\'s subscription with the cancelled state when a client cancels', async () => {
    const task = await submit(server, { kind: 'ws_cancel' });
    const watcher = reader(server.ws().iterate({ query: FOLLOW, variables: { id: task['id'] } }));
    expect(await watcher.next()).toMatchObject({ status: 'PENDING' });
    const canceller = server.ws();
    const cancelled = await canceller.iterate({ query: `mutation($id: ID!) { cancelTask(id: $id) { success message } }`, variables: { id: task['id'] } }).next();
    expect(cancelled.value?.data?.cancelTask).toEqual({ success: true, message: `Task ${task['id']} has been cancelled` });
    expect(await watcher.next()).toMatchObject({ status: 'CANCELLED', message: 'Task cancelled' });
    expect(await watcher.ended()).toBe(true);
  });

  it('gives subscribers of one task sharing an operation the same states, and each other selection its own shape', async () => {
    const { worker } = server;
    const task = await submit(server, { kind: 'ws_shared' });
    const narrow = `subscription($id: ID!) { taskUpdated(id: $id) { status progress version } }`;
    const same = [0, 1, 2].map(() => reader(server.ws().iterate({ query: FOLLOW, variables: { id: task['id'] } })));
    const other = reader(server.ws().iterate({ query: narrow, variables: { id: task['id'] } }));
    for (const events of same) expect(await events.next()).toMatchObject({ status: 'PENDING', version: 1 });
    expect(await other.next()).toEqual({ status: 'PENDING', progress: 0, version: 1 });
    const held = await worker.claim('ws_shared');
    await worker.progress(held, 50, 'Half');
    await worker.complete(held, { done: true });
    const seen = await Promise.all(
      same.map(async (events) => {
        const states: Event[] = [];
        // Intermediate states may be coalesced; the final one never is.
        while (states.at(-1)?.['status'] !== 'COMPLETED') states.push(await events.next());
        expect(await events.ended()).toBe(true);
        return states.at(-1);
      }),
    );
    expect(seen[0]).toMatchObject({ status: 'COMPLETED', progress: 100, result: { done: true } });
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[0]);
    let last = await other.next();
    while (last['status'] !== 'COMPLETED') last = await other.next();
    expect(last).toEqual({ status: 'COMPLETED', progress: 100, version: seen[0]!['version'] });
    expect(await other.ended()).toBe(true);
  });

  it('answers NOT_FOUND for an unknown id over graphql-ws', async () => {
    const iterator = server.ws().iterate({ query: FOLLOW, variables: { id: 'vid_00000000000000000000000000' } });
    const first = await iterator.next().then(
      (result) => result.value,
      (errors: unknown) => ({ errors }),
    );
    expect(first.errors).toMatchObject([{ message: 'Task vid_00000000000000000000000000 not found', extensions: { code: 'NOT_FOUND' } }]);
  });
});

describe('tasksUpdated', () => {
  it('delivers changes of matching tasks only', async () => {
    const iterator = server.ws().iterate({
      query: `subscription { tasksUpdated(filter: { kind: ["dash_a"], status: [PROCESSING, COMPLETED] }) { ${TASK_FIELDS} } }`,
    });
    const events = reader(iterator, 'tasksUpdated');
    // The subscription is live once the server counts it; only then can a change be expected.
    await until(() => server.ctx.feed.size.everyTask > 0, 'the dashboard subscription');
    try {
      const { worker } = server;
      const a = await submit(server, { kind: 'dash_a' });
      const b = await submit(server, { kind: 'dash_b' });
      await worker.claim('dash_b');
      const held = await worker.claim('dash_a');
      expect(await events.next()).toMatchObject({ id: a['id'], status: 'PROCESSING' });
      await worker.complete(held, {});
      // Only task a's changes, in version order, until it completes. (Under heavy load a resync
      // has been seen to deliver its PROCESSING state again before the completion.)
      let event = await events.next();
      while (event['status'] === 'PROCESSING') {
        expect(event['id']).toBe(a['id']);
        event = await events.next();
      }
      expect(event).toMatchObject({ id: a['id'], status: 'COMPLETED' });
      expect(b['id']).not.toBe(a['id']);
    } finally {
      // A failure here must not leave the listener behind for the cleanup tests below.
      await events.stop();
    }
    await until(() => server.ctx.feed.size.everyTask === 0, 'the dashboard listener to be removed');
  });
});

describe('cleanup', () => {
  async function openSubscriptions(): Promise<number> {
    const text = await (await fetch(`${server.origin}/metrics`)).text();
    return [...text.matchAll(/^tasklane_graphql_subscriptions_open\{field="\w+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  }

  it('lets go of every payload once subscriptions end, however they end', async () => {
    const refs: WeakRef<Task>[] = [];
    const feed = server.ctx.feed;
    const store = server.ctx.store;
    const watch = feed.watch.bind(feed);
    const get = store.get.bind(store);
    // Record every task object a subscription can emit: its initial read and every change the
    // feed hands it. Followers, payload caches and sockets are what could keep them.
    feed.watch = (id, listener) =>
      watch(id, (task) => {
        refs.push(new WeakRef(task));
        listener(task);
      });
    store.get = async (id, scope) => {
      const task = await get(id, scope);
      if (task) refs.push(new WeakRef(task));
      return task;
    };
    try {
      const { worker } = server;
      const client = server.ws();
      // Three end by a terminal state, three by the client unsubscribing mid-stream, and one by
      // its socket closing.
      const finished: ReturnType<typeof reader>[] = [];
      for (let i = 0; i < 3; i++) {
        const task = await submit(server, { kind: 'leak', input: { blob: 'x'.repeat(10_000) } });
        const events = reader(client.iterate({ query: FOLLOW, variables: { id: task['id'] } }));
        await events.next();
        finished.push(events);
      }
      for (let i = 0; i < 3; i++) {
        const held = await worker.claim('leak');
        await worker.complete(held, { i });
      }
      for (const events of finished) {
        // The claim may show up first, or be coalesced into the completion.
        let event = await events.next();
        if (event['status'] === 'PROCESSING') event = await events.next();
        expect(event).toMatchObject({ status: 'COMPLETED' });
        expect(await events.ended()).toBe(true);
      }
      for (let i = 0; i < 3; i++) {
        const task = await submit(server, { kind: 'leak_open' });
        const events = reader(client.iterate({ query: FOLLOW, variables: { id: task['id'] } }));
        await events.next();
        await events.stop();
      }
      const lonely = server.ws();
      const task = await submit(server, { kind: 'leak_open' });
      await reader(lonely.iterate({ query: FOLLOW, variables: { id: task['id'] } })).next();
      await lonely.dispose();

      expect(refs.length).toBeGreaterThanOrEqual(10);
      await until(async () => (await openSubscriptions()) === 0, 'the open subscriptions gauge to reach 0');
      await until(() => server.ctx.feed.size.tasks === 0, 'the feed to drop every followed id');
      await until(
        () => {
          global.gc!();
          return refs.every((ref) => ref.deref() === undefined);
        },
        'the emitted tasks to be collected',
        200,
      );
    } finally {
      Reflect.deleteProperty(feed, 'watch');
      Reflect.deleteProperty(store, 'get');
    }
  });

  it('leaves no process-wide weak table of ours the size of a burst of subscribers once they left', async () => {
    // A WeakMap's or WeakSet's table keeps its capacity when its keys are collected: a long-lived
    // one that takes an entry per subscriber stays as large as the most subscribers there ever
    // were, memory still held after everyone left (seen as heap after a fan-out that never went
    // back down). Every weak table that takes entries while a burst subscribes, gets a shared
    // state and leaves is recorded; those of our code that took one per subscriber must be gone
    // with the subscribers.
    await until(async () => (await openSubscriptions()) === 0, 'earlier subscriptions to close');
    const subscribers = 40;
    const taken = new Map<object, { entries: number; by: string }>();
    const record = (table: object) => {
      let entry = taken.get(table);
      if (!entry) {
        // The frame that called set/add: the first one outside this file.
        const by = new Error().stack!.split('\n').slice(1).find((line) => !line.includes('subscriptions.test.ts')) ?? '';
        taken.set(table, (entry = { entries: 0, by }));
      }
      entry.entries++;
    };
    const { set } = WeakMap.prototype;
    const { add } = WeakSet.prototype;
    WeakMap.prototype.set = function (this: WeakMap<WeakKey, unknown>, key: WeakKey, value: unknown) {
      record(this);
      return set.call(this, key, value);
    };
    WeakSet.prototype.add = function (this: WeakSet<WeakKey>, value: WeakKey) {
      record(this);
      return add.call(this, value);
    };
    try {
      const client = server.ws();
      const task = await submit(server, { kind: 'burst' });
      const all = Array.from({ length: subscribers }, () => reader(client.iterate({ query: FOLLOW, variables: { id: task['id'] } })));
      for (const events of all) expect(await events.next()).toMatchObject({ status: 'PENDING' });
      await server.worker.claim('burst');
      for (const events of all) expect(await events.next()).toMatchObject({ status: 'PROCESSING' });
      for (const events of all) await events.stop();
      await until(async () => (await openSubscriptions()) === 0, 'the burst to close');
    } finally {
      WeakMap.prototype.set = set;
      WeakSet.prototype.add = add;
    }
    const ours = (by: string) => /\/(services|packages)\//.test(by) && !by.includes('/node_modules/');
    const perSubscriber = [...taken]
      .filter(([, entry]) => entry.entries >= subscribers && ours(entry.by))
      .map(([table, entry]) => ({ table: new WeakRef(table), what: `${entry.entries} entries, the first ${entry.by.trim()}` }));
    taken.clear();
    global.gc!();
    expect(perSubscriber.filter(({ table }) => table.deref() !== undefined).map(({ what }) => what)).toEqual([]);
  });

  it('ends a subscription when its SSE client goes away', async () => {
    // Streams of earlier tests close on the server a moment after their clients saw them end.
    await until(async () => (await openSubscriptions()) === 0, 'earlier subscriptions to close');
    const task = await submit(server, { kind: 'sse_gone' });
    const controller = new AbortController();
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: FOLLOW, variables: { id: task['id'] } }),
      signal: controller.signal,
    });
    const body = response.body!.getReader();
    await body.read();
    expect(await openSubscriptions()).toBe(1);
    expect(server.ctx.feed.size.tasks).toBe(1);
    controller.abort();
    await until(async () => (await openSubscriptions()) === 0, 'the SSE subscription to close');
    expect(server.ctx.feed.size.tasks).toBe(0);
  });
});

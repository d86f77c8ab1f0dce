import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startRestHarness, uniqueKind, type RestHarness } from './rest-harness.ts';

let h: RestHarness;
beforeAll(async () => {
  h = await startRestHarness();
});
afterAll(async () => {
  await h.close();
});

interface TaskBody {
  task_id: string;
  status: string;
  progress: number;
}

interface SseEvent {
  event?: string;
  id?: string;
  data: string;
}

async function submit(kind: string): Promise<string> {
  const response = await fetch(`${h.baseUrl}/api/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind }),
  });
  return ((await response.json()) as TaskBody).task_id;
}

/** Reads an SSE response to its end, calling `onEvent` for each event as it arrives. */
async function readEvents(response: Response, onEvent: (event: SseEvent) => Promise<void> | void = () => {}): Promise<{ events: SseEvent[]; comments: string[] }> {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { data: '' };
      let isEvent = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) comments.push(line);
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('data: ')) {
          event.data = line.slice(6);
          isEvent = true;
        }
      }
      if (isEvent) {
        events.push(event);
        await onEvent(event);
      }
    }
  }
  return { events, comments };
}

describe('GET /api/v1/tasks/{task_id}/events (SSE)', () => {
  it('sends the GET body for each state with the version as id, and ends after the terminal one', async () => {
    const kind = uniqueKind('sse');
    const id = await submit(kind);
    const response = await fetch(`${h.baseUrl}/api/v1/tasks/${id}/events`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    // Drive the task one step per received event, so each state is seen.
    const steps = [() => h.worker.claim(kind), () => h.worker.progress(id, 60), () => h.worker.complete(id, { url: 'u' }, 'veo3')];
    const { events } = await readEvents(response, async () => {
      await steps.shift()?.();
    });
    expect(events.map((e) => e.event)).toEqual(['task', 'task', 'task', 'task']);
    expect(events.map((e) => e.id)).toEqual(['1', '2', '3', '4']);
    const bodies = events.map((e) => JSON.parse(e.data) as TaskBody);
    expect(bodies.map((b) => [b.status, b.progress])).toEqual([
      ['pending', 0],
      ['processing', 0],
      ['processing', 60],
      ['completed', 100],
    ]);
    const get = await (await fetch(`${h.baseUrl}/api/v1/tasks/${id}`)).text();
    expect(events[3]!.data).toBe(get);
  });

  it('resumes after Last-Event-ID and answers 204 once nothing newer can come', async () => {
    const kind = uniqueKind('sser');
    const id = await submit(kind);
    await h.worker.claim(kind);
    await h.worker.progress(id, 30);
    await h.worker.fail(id, { type: 'E', message: 'boom', retryable: false });
    const resumed = await fetch(`${h.baseUrl}/api/v1/tasks/${id}/events`, { headers: { 'last-event-id': '2' } });
    const { events } = await readEvents(resumed);
    // Only the newest state is stored; what the client missed collapses into it.
    expect(events.map((e) => e.id)).toEqual(['4']);
    expect(JSON.parse(events[0]!.data)).toMatchObject({ status: 'failed', error: { type: 'E', message: 'boom' } });

    const finished = await fetch(`${h.baseUrl}/api/v1/tasks/${id}/events`, { headers: { 'last-event-id': '4' } });
    expect(finished.status).toBe(204);
  });

  it('answers an unknown task with a 404 problem before streaming', async () => {
    const response = await fetch(`${h.baseUrl}/api/v1/tasks/vid_00000000000000000000000000/events`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await response.json()).toMatchObject({ type: 'https://tasklane.dev/problems/not-found', status: 404 });
  });

  it('stops following when the client disconnects', async () => {
    const id = await submit(uniqueKind('ssegone'));
    const controller = new AbortController();
    const response = await fetch(`${h.baseUrl}/api/v1/tasks/${id}/events`, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    while (h.ctx.feed.size.tasks === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    // Without cleanup this never ends and the test times out.
    while (h.ctx.feed.size.tasks > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(h.ctx.feed.size.tasks).toBe(0);
  });
});

describe('ws://…/ws/tasks/{task_id}', () => {
  function connect(id: string): { socket: WebSocket; messages: TaskBody[]; closed: Promise<{ code: number; reason: string }> } {
    const socket = new WebSocket(`${h.baseUrl.replace('http', 'ws')}/ws/tasks/${id}`);
    const messages: TaskBody[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as TaskBody));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    return { socket, messages, closed };
  }

  it('sends the GET body on connect and on each change, then closes with 1000 after the terminal state', async () => {
    const kind = uniqueKind('ws');
    const id = await submit(kind);
    const { socket, messages, closed } = connect(id);
    const steps: (() => Promise<unknown>)[] = [
      () => h.worker.claim(kind),
      () => h.worker.progress(id, 45),
      () => h.worker.complete(id, { video_url: 'v' }, 'veo3'),
    ];
    // Each message moves the task one step, after the previous step's write has returned: the
    // change a write announces can reach this socket before the write's own reply reaches us.
    let chain: Promise<unknown> = Promise.resolve();
    let failure: unknown;
    socket.on('message', () => {
      const step = steps.shift();
      if (step) chain = chain.then(step).catch((error: unknown) => {
        failure = error;
        socket.close();
      });
    });
    const { code, reason } = await closed;
    expect(failure).toBeUndefined();
    expect(code).toBe(1000);
    expect(reason).toBe('Task finished');
    expect(messages.map((m) => [m.status, m.progress])).toEqual([
      ['pending', 0],
      ['processing', 0],
      ['processing', 45],
      ['completed', 100],
    ]);
    expect(messages[3]).toEqual(await (await fetch(`${h.baseUrl}/api/v1/tasks/${id}`)).json());
    // The seed's example reads status.result.video_url... of the GET body's result object.
    expect((messages[3] as unknown as { result: { result: { video_url: string } } }).result.result.video_url).toBe('v');
  });

  it('sends a finished task once and closes normally', async () => {
    const id = await submit(uniqueKind('wsdone'));
    await fetch(`${h.baseUrl}/api/v1/tasks/${id}`, { method: 'DELETE' });
    const { messages, closed } = connect(id);
    expect((await closed).code).toBe(1000);
    expect(messages.map((m) => m.status)).toEqual(['cancelled']);
  });

  it('closes with 4404 and a reason for an unknown task', async () => {
    for (const id of ['vid_00000000000000000000000000', 'nope']) {
      const { messages, closed } = connect(id);
      expect(await closed).toEqual({ code: 4404, reason: `Task ${id} not found` });
      expect(messages).toEqual([]);
    }
  });

  it('stops following when the client closes', async () => {
    const id = await submit(uniqueKind('wsgone'));
    const { socket, messages, closed } = connect(id);
    while (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    socket.close(1000);
    await closed;
    while (h.ctx.feed.size.tasks > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(h.ctx.feed.size.tasks).toBe(0);
  });
});

import WebSocket from 'ws';

/** A connection to another Node process's inspector (the process runs with `--inspect=127.0.0.1:0`). */
export interface InspectorSession {
  call(method: string, params?: object): Promise<unknown>;
  /** Calls `listener` with the params of every `method` event from now on. */
  on(method: string, listener: (params: unknown) => void): void;
  close(): void;
}

export async function openInspector(inspectorUrl: string): Promise<InspectorSession> {
  const socket = new WebSocket(inspectorUrl, { maxPayload: 0 });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const events = new Map<string, (params: unknown) => void>();
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message: string } };
    if (message.id === undefined) {
      if (message.method) events.get(message.method)?.(message.params);
      return;
    }
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error.message));
    else waiter?.resolve(message.result);
  });
  return {
    call: (method, params) =>
      new Promise<unknown>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        socket.send(JSON.stringify({ id, method, ...(params ? { params } : {}) }));
      }),
    on: (method, listener) => void events.set(method, listener),
    close: () => socket.close(),
  };
}

/** Twice: the first collection can leave objects whose finalizers ran but whose memory the second one frees (WeakRefs, FinalizationRegistry callbacks). */
async function collectTwice(session: InspectorSession): Promise<void> {
  await session.call('HeapProfiler.collectGarbage');
  await session.call('HeapProfiler.collectGarbage');
}

/**
 * The V8 heap in use by another Node process after a full garbage collection, asked over its
 * inspector. RSS cannot tell a leak from an allocator that keeps its pages; the heap after a
 * forced GC can, and it needs no hook in the measured program.
 */
export async function heapUsedAfterGcKb(inspector: string | InspectorSession): Promise<number> {
  const session = typeof inspector === 'string' ? await openInspector(inspector) : inspector;
  try {
    await collectTwice(session);
    const usage = (await session.call('Runtime.getHeapUsage')) as { usedSize: number };
    return Math.round(usage.usedSize / 1024);
  } finally {
    if (session !== inspector) session.close();
  }
}

/**
 * A heap snapshot of another Node process (the `.heapsnapshot` JSON text), taken after two forced
 * collections, so that only what is still reachable is in it. Object ids are stable only within
 * one inspector session (closing it forgets them), so snapshots to be diffed by id (see
 * `tools/heap-diff.ts`) are taken over the same session.
 */
export async function takeHeapSnapshot(session: InspectorSession): Promise<string> {
  await collectTwice(session);
  const chunks: string[] = [];
  session.on('HeapProfiler.addHeapSnapshotChunk', (params) => chunks.push((params as { chunk: string }).chunk));
  await session.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false });
  return chunks.join('');
}

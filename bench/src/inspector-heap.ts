import WebSocket from 'ws';

/**
 * The V8 heap in use by another Node process after a full garbage collection, asked over its
 * inspector (the process runs with `--inspect=127.0.0.1:0`). RSS cannot tell a leak from an
 * allocator that keeps its pages; the heap after a forced GC can, and it needs no hook in the
 * measured program.
 */
export async function heapUsedAfterGcKb(inspectorUrl: string): Promise<number> {
  const socket = new WebSocket(inspectorUrl);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error.message));
    else waiter?.resolve(message.result);
  });
  const call = (method: string) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method }));
    });
  try {
    // Twice: the first collection can leave objects whose finalizers ran but whose memory the
    // second one frees (WeakRefs, FinalizationRegistry callbacks).
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const usage = (await call('Runtime.getHeapUsage')) as { usedSize: number };
    return Math.round(usage.usedSize / 1024);
  } finally {
    socket.close();
  }
}

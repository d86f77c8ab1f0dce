// A backend that submits a video task and waits for it, printing progress as it goes.
//
//   pnpm start                              # in one terminal: Postgres, the API and a worker
//   pnpm tsx examples/submit-and-wait.ts    # in another (TASKLANE_URL overrides the address)
//
// Ctrl-C stops waiting and cancels the task, since nobody will want its result.
import WebSocket from 'ws';
import {
  createTasklaneClient,
  TaskCancelledError,
  TaskFailedError,
  TaskTimeoutError,
  TasklaneConnectionError,
  TasklaneRequestError,
} from '@tasklane/client';

const client = createTasklaneClient({
  url: process.env['TASKLANE_URL'] ?? 'http://localhost:8000',
  // Node 20 has no global WebSocket; without one the client would poll instead of subscribing.
  webSocketImpl: WebSocket,
});

const task = await client.submit({
  kind: 'video',
  input: { prompt: 'A lighthouse in a storm, cinematic', duration_seconds: 5 },
  idempotencyKey: `example-${process.pid}`,
});
console.log(`submitted ${task.id}`);

const stop = new AbortController();
process.once('SIGINT', () => stop.abort(new Error('interrupted')));

try {
  const done = await client.waitFor(task.id, {
    timeout: 5 * 60_000,
    signal: stop.signal,
    onProgress: (update, { via }) => console.log(`${update.status.toLowerCase().padEnd(10)} ${String(update.progress).padStart(3)}%  ${update.message ?? ''}  [${via}]`),
    onStalled: (update, { quietMs }) => console.warn(`no progress for ${Math.round(quietMs / 1000)}s (still ${update.status.toLowerCase()})`),
  });
  console.log('result:', JSON.stringify(done.result));
} catch (error) {
  process.exitCode = 1;
  if (error instanceof TaskFailedError) console.error(`failed: ${error.errorType}: ${error.errorMessage}`);
  else if (error instanceof TaskCancelledError) console.error('the task was cancelled');
  else if (error instanceof TaskTimeoutError) console.error(error.message);
  else if (error instanceof TasklaneConnectionError) console.error(`cannot reach the server: ${error.message}`);
  else if (error instanceof TasklaneRequestError) console.error(`the server said ${error.code}: ${error.message}`);
  else if (stop.signal.aborted) {
    await client.cancel(task.id).catch(() => undefined);
    console.error(`stopped; cancelled ${task.id}`);
  } else throw error;
} finally {
  await client.close();
}

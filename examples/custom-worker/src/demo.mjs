// One program that shows the whole path: starts the worker, submits a thumbnail task through the
// client, follows its progress over graphql-ws, prints the result, and stops.
//   DATABASE_URL=postgres://… TASKLANE_URL=http://localhost:8000 node src/demo.mjs
import WebSocket from 'ws';
import { createTasklaneClient } from '@tasklane/client';
import { startWorker } from './worker.mjs';

const worker = startWorker();
await worker.start();
const client = createTasklaneClient({
  url: process.env.TASKLANE_URL ?? 'http://localhost:8000',
  // Node 20 has no global WebSocket (Node 22+ and browsers do); without one the client polls.
  webSocketImpl: WebSocket,
  ...(process.env.TASKLANE_API_KEY ? { apiKey: process.env.TASKLANE_API_KEY } : {}),
});
try {
  const task = await client.submit({ kind: 'thumbnail', input: { url: 'https://images.example.com/cat.jpg', width: 160 } });
  console.log(`submitted ${task.id}`);
  const done = await client.waitFor(task.id, {
    timeout: 120_000,
    onProgress: (update, { via }) => console.log(`progress ${update.status} ${update.progress}% ${update.message ?? ''} via ${via}`),
  });
  console.log(`result ${JSON.stringify(done.result)}`);
} finally {
  await client.close();
  await worker.stop();
}

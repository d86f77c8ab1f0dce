// The worker process: `node src/worker.mjs` with DATABASE_URL set (the same database as the API).
// Run as many of these as you like: they share the work through Postgres.
import { createWorker } from '@tasklane/worker';
import { thumbnail } from './thumbnail.mjs';

export function startWorker(connectionString = process.env.DATABASE_URL) {
  if (!connectionString) throw new Error('Set DATABASE_URL=postgres://… (the database the Tasklane API uses)');
  const worker = createWorker({
    connectionString,
    handlers: { thumbnail },
    concurrency: 4,
    logger: console,
  });
  return worker;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const worker = startWorker();
  // Graceful shutdown: running tasks get the grace period (20 s), the rest go back to pending.
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void worker.stop().then(() => process.exit(0)));
  await worker.start();
}

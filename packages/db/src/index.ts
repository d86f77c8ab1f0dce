// The store, migrations, LISTEN/NOTIFY bus, feed and embedded Postgres: what a worker needs.
// Redis (`@tasklane/db/redis`) and rate limits and API keys (`@tasklane/db/limits`) are entries
// of their own, so that a worker never loads ioredis unless it asks for Redis.
export * from './schema.ts';
export * from './connect.ts';
export * from './statements.ts';
export * from './statement-health.ts';
export * from './migrate.ts';
export * from './advisory-locks.ts';
export * from './embedded-postgres.ts';
export * from './database-url.ts';
export * from './task-row.ts';
export * from './task-store.ts';
export * from './task-operations.ts';
export * from './worker-store.ts';
export * from './kind-registry.ts';
export * from './kind-pauses.ts';
export * from './maintenance.ts';
export * from './event-bus.ts';
export * from './task-feed.ts';
export * from './async-queue.ts';
export * from './following.ts';
export { encodeCursor, decodeCursor } from './cursor.ts';
export * from './change-publisher.ts';
export * from './webhook-store.ts';
export * from './completion-batcher.ts';
export * from './queue-places.ts';
export * from './pushed-place.ts';
export * from './queue-pusher.ts';
export * from './attempt-history.ts';

import type { Config } from '@tasklane/core';
import { createPool, KindRegistry, QueuePusher, TaskFeed, TaskOperations, TaskStore, WebhookStore } from '@tasklane/db';
import { createEventBus } from '@tasklane/db/redis';
import { ApiKeyStore } from '@tasklane/db/limits';
import type { AppContext } from './app-context.ts';
import { KeyVerifier } from './auth/key-verifier.ts';
import { OwnerLimits } from './rate-limit/owner-limits.ts';
import { HttpWorkers } from './workers/http-workers.ts';

export interface AppContextOptions {
  /** Told when the event bus loses its connection (it reconnects by itself). */
  onBusError?: (error: Error) => void;
  /** Told when the rate limiter's store fails (requests are let through meanwhile). */
  onLimiterError?: (error: Error) => void;
  /** Told once if `DATABASE_PREPARED_STATEMENTS=auto` turns named statements off behind a pooler. */
  onUnnamedStatements?: (message: string) => void;
}

/** Opens the pool and the event bus (LISTEN/NOTIFY or Redis, as `EVENT_BUS` says) of one API process. */
export async function createAppContext(
  config: Config,
  databaseUrl: string,
  { onBusError, onLimiterError, onUnnamedStatements }: AppContextOptions = {},
): Promise<AppContext & { close(): Promise<void> }> {
  const pool = createPool({
    connectionString: databaseUrl,
    max: config.databasePoolSize,
    applicationName: 'tasklane-api',
    statements: { mode: config.databasePreparedStatements, ...(onUnnamedStatements ? { onUnnamed: onUnnamedStatements } : {}) },
  });
  const { bus, publish } = createEventBus({
    kind: config.eventBus,
    listenUrl: config.listenDatabaseUrl ?? databaseUrl,
    redisUrl: config.redisUrl,
    ...(onBusError ? { onError: onBusError } : {}),
  });
  const kinds = new KindRegistry(pool, { declared: config.taskKinds.declared, anyKind: config.taskKinds.any });
  const store = new TaskStore(pool, {
    onChanges: publish,
    maxInputBytes: config.hardening.maxInputBytes,
    maxInputDepth: config.hardening.maxInputDepth,
    kinds,
    webhookPolicy: config.webhooks,
  });
  await bus.start();
  const feed = new TaskFeed(store, bus);
  const queuePusher = new QueuePusher(feed, bus, pool, config.caps);
  const workers = new HttpWorkers({ config, pool, tasks: store, bus, publish });
  const limits = await OwnerLimits.open(config.rateLimits, pool, config.redisUrl, onLimiterError ? { onError: onLimiterError } : {});
  return {
    config,
    pool,
    store,
    operations: new TaskOperations(store, pool, { onChanges: publish }),
    kinds,
    bus,
    feed,
    queuePusher,
    limits,
    keys: new KeyVerifier(new ApiKeyStore(pool)),
    webhooks: new WebhookStore(pool),
    workers,
    async close() {
      await workers.close();
      queuePusher.close();
      feed.close();
      await limits.close();
      await bus.close();
      await pool.end();
    },
  };
}

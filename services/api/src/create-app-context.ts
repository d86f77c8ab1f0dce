import type { Config } from '@tasklane/core';
import { createPool, PgEventBus, TaskFeed, TaskStore } from '@tasklane/db';
import type { AppContext } from './app-context.ts';

/** Opens the pool and the LISTEN connection of one API process. */
export async function createAppContext(config: Config, databaseUrl: string): Promise<AppContext & { close(): Promise<void> }> {
  const pool = createPool({ connectionString: databaseUrl, max: config.databasePoolSize, applicationName: 'tasklane-api' });
  const store = new TaskStore(pool);
  const bus = new PgEventBus({ connectionString: databaseUrl });
  await bus.start();
  const feed = new TaskFeed(store, bus);
  return {
    config,
    pool,
    store,
    bus,
    feed,
    async close() {
      feed.close();
      await bus.close();
      await pool.end();
    },
  };
}

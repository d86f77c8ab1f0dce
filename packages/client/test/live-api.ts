import WebSocket from 'ws';
import { createTaskDriver, createTestDatabase, type TaskDriver, type TestDatabase } from '@tasklane/db/testing';
import { createTasklaneClient, type TasklaneClient, type TasklaneClientOptions } from '../src/index.ts';
import { startApiProcess, type ApiProcess } from '../src/testing/index.ts';

/** A fresh database, an API process on it, a driver that moves tasks, and clients that close with it. */
export interface LiveApi {
  db: TestDatabase;
  api: ApiProcess;
  driver: TaskDriver;
  /** A client for this API with `ws` and quick schedules; closed by `close()`. */
  client(options?: Partial<TasklaneClientOptions>): TasklaneClient;
  close(): Promise<void>;
}

/** Polls and reconnects fast, so tests spend their time on behaviour rather than on waits. */
export const QUICK = {
  polling: { initialMs: 20, factor: 1.5, maxMs: 200 },
  // A restarted API can take a while to come up on a busy machine: keep trying for minutes.
  reconnect: { attempts: 2000, delayMs: () => 100 },
} satisfies Partial<TasklaneClientOptions>;

export async function startLiveApi(): Promise<LiveApi> {
  const db = await createTestDatabase();
  const api = await startApiProcess({ databaseUrl: db.url });
  const driver = createTaskDriver(db.url);
  const clients: TasklaneClient[] = [];
  return {
    db,
    api,
    driver,
    client(options = {}) {
      const client = createTasklaneClient({ url: api.url, webSocketImpl: WebSocket, ...QUICK, ...options });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) await client.close();
      await driver.close();
      await api.stop();
      await db.drop();
    },
  };
}

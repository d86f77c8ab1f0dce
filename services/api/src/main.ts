import type { FastifyInstance } from 'fastify';
import { loadConfig, ConfigError, type Config } from '@tasklane/core';
import { migrateToLatest } from '@tasklane/db';
import { startTracing } from '@tasklane/telemetry';
import { authOffWarning } from './auth/auth-off-warning.ts';
import { createAppContext } from './create-app-context.ts';
import { buildServer } from './server.ts';

/** How long open WebSockets get to answer our close frame before they are cut. */
const SOCKET_CLOSE_GRACE_MS = 2000;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`tasklane api: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}

/** While the database is away at start, wait for it rather than crash-loop under a supervisor. */
async function migrate(url: string): Promise<void> {
  for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      await migrateToLatest(url);
      return;
    } catch (error) {
      console.error(`tasklane api: cannot migrate the database yet (${(error as Error).message}); retrying in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Tells every WebSocket client (graphql-ws and /ws/tasks) that this replica is going away: close
 * code 1001, which clients treat as "reconnect, elsewhere if you can". Fastify's own close would
 * end them without a code. Sockets that do not answer within the grace are cut.
 */
async function closeSockets(app: FastifyInstance): Promise<void> {
  const clients = [...app.websocketServer.clients];
  if (clients.length === 0) return;
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.readyState === client.CLOSED) return resolve();
          const timer = setTimeout(() => {
            client.terminate();
            resolve();
          }, SOCKET_CLOSE_GRACE_MS);
          client.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          client.close(1001, 'Server shutting down');
        }),
    ),
  );
}

/**
 * One API process. Needs DATABASE_URL: `pnpm start` starts the embedded Postgres and passes it.
 */
async function main(): Promise<void> {
  const config = readConfig();
  if (!config.databaseUrl) {
    console.error('tasklane api: DATABASE_URL is not set; run `pnpm start` for the embedded database, or set DATABASE_URL=postgres://...');
    process.exit(2);
  }
  await migrate(config.migrationDatabaseUrl ?? config.databaseUrl);
  // Before anything traced runs; a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
  const tracing = startTracing('tasklane-api');
  // The server (and its logger) needs the context; a fallback before it exists goes to stderr.
  const server: { log?: FastifyInstance['log'] } = {};
  const ctx = await createAppContext(config, config.databaseUrl, {
    onUnnamedStatements: (message) => (server.log ? server.log.warn(message) : console.error(`tasklane api: ${message}`)),
  });
  const app = await buildServer(ctx, { logger: config.logLevel === 'silent' ? false : { level: config.logLevel } });
  server.log = app.log;
  // A stray rejection (a client gone mid-write, the database away) must not end a replica that
  // serves many clients; log it instead.
  process.on('unhandledRejection', (reason) => app.log.error({ err: reason }, 'unhandled rejection'));
  await app.listen({ port: config.port, host: config.host });
  const warning = authOffWarning(config);
  if (warning) app.log.warn(warning);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping api');
    try {
      // A handshake that completes from here on would otherwise be cut by Fastify's close with no
      // code at all (1005); it gets the same 1001 as the sockets already open.
      app.websocketServer.on('connection', (socket: { close(code: number, reason: string): void }) => socket.close(1001, 'Server shutting down'));
      // Sockets first, while the server still runs: clients get a proper 1001 and move on.
      await closeSockets(app);
      // Stops accepting, ends in-flight requests and streams (SSE clients reconnect elsewhere).
      await app.close();
      await ctx.close();
      await tracing?.shutdown();
    } catch (error) {
      app.log.error({ err: error }, 'unclean stop');
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

await main();

import type { FastifyInstance } from 'fastify';
import { loadConfig, ConfigError, listenProblem, SocketClose, type Config } from '@tasklane/core';
import { migrateToLatest } from '@tasklane/db';
import { createLogger, type Logger } from '@tasklane/log';
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
async function migrate(url: string, log: Logger): Promise<void> {
  for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      await migrateToLatest(url);
      return;
    } catch (error) {
      log.error({ error: (error as Error).message, retryInMs: delay }, 'cannot migrate the database yet; retrying');
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
          client.close(SocketClose.GoingAway, 'Server shutting down');
        }),
    ),
  );
}

/** What the launcher (`tasklane start`) hears over IPC: it says "started" only once the API listens. */
export type ApiStatusMessage = { type: 'listening'; port: number } | { type: 'listen-failed'; reason: string };

/**
 * One API process. Needs DATABASE_URL: `pnpm start` starts the embedded Postgres and passes it.
 */
async function main(): Promise<void> {
  const config = readConfig();
  if (!config.databaseUrl) {
    console.error('tasklane api: DATABASE_URL is not set; run `pnpm start` for the embedded database, or set DATABASE_URL=postgres://...');
    process.exit(2);
  }
  const log = createLogger({ service: 'api', level: config.logLevel, format: config.logFormat });
  // Under `tasklane start`, a Ctrl-C or a SIGTERM to the process group is the launcher's to act on:
  // it stops the API after the workers, over IPC. Alone, the signals stop it. Until the API
  // serves, there is nothing to close gracefully.
  const supervised = process.send !== undefined;
  let stop: (reason: string) => void = () => process.exit(0);
  process.on('SIGTERM', () => !supervised && stop('SIGTERM'));
  process.on('SIGINT', () => !supervised && stop('SIGINT'));
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stop' || message.type === 'stop-now') stop(`launcher: ${message.type}`);
  });
  // The launcher died without telling us (kill -9): stop as on SIGTERM rather than run on alone.
  process.on('disconnect', () => stop('launcher gone'));
  await migrate(config.migrationDatabaseUrl ?? config.databaseUrl, log);
  // Before anything traced runs; a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
  const tracing = startTracing('tasklane-api');
  const ctx = await createAppContext(config, config.databaseUrl, { onUnnamedStatements: (message) => log.warn(message) });
  const app = await buildServer(ctx, { logger: log });
  // A stray rejection (a client gone mid-write, the database away) must not end a replica that
  // serves many clients; log it instead.
  process.on('unhandledRejection', (reason) => app.log.error({ err: reason }, 'unhandled rejection'));
  const tell = (message: ApiStatusMessage) => process.send?.(message);
  try {
    await app.listen({ port: config.port, host: config.host, listenTextResolver: (address) => `listening at ${address}` });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') throw error;
    const reason = listenProblem(code, config.host, config.port);
    // Under the launcher, it prints the line (once) and stops everything; alone, this process does.
    if (process.send) tell({ type: 'listen-failed', reason });
    else log.error({ port: config.port, host: config.host }, reason);
    await ctx.close().catch(() => {});
    process.exit(3);
  }
  tell({ type: 'listening', port: config.port });
  const warning = authOffWarning(config);
  if (warning) app.log.warn(warning);

  let stopping = false;
  const graceful = async (signal: string) => {
    if (stopping) {
      // A second signal: do not wait for sockets to say goodbye.
      app.log.warn({ signal }, 'stopping api now');
      process.exit(0);
    }
    stopping = true;
    app.log.info({ signal }, 'stopping api');
    try {
      // A handshake that completes from here on would otherwise be cut by Fastify's close with no
      // code at all (1005); it gets the same 1001 as the sockets already open.
      app.websocketServer.on('connection', (socket: { close(code: number, reason: string): void }) => socket.close(SocketClose.GoingAway, 'Server shutting down'));
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
  stop = (signal) => void graceful(signal);
}

await main();

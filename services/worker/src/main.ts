import { ConfigError, loadConfig, type Config } from '@tasklane/core';
import { createPool, migrateToLatest, statementHealth } from '@tasklane/db';
import { RedisEventBus } from '@tasklane/db/redis';
import { createWebhookDispatcher, createWorker, errorFields, type Logger } from '@tasklane/worker';
import { startTracing } from '@tasklane/telemetry';
import { builtInHandlers } from './handlers/index.ts';
import { healthServerPort, startHealthServer } from './health-server.ts';
import { taskMetrics } from './task-metrics.ts';
import { createLogger, messageFirst } from '@tasklane/log';

function exitWith(message: string): never {
  console.error(`tasklane worker: ${message}`);
  process.exit(2);
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) exitWith(error.message);
    throw error;
  }
}

/** Migrations need the database; while it is away, wait for it rather than crash-loop. */
async function migrate(url: string, log: Logger, stopping: AbortSignal): Promise<boolean> {
  for (let delay = 500; !stopping.aborted; delay = Math.min(delay * 2, 10_000)) {
    try {
      const applied = await migrateToLatest(url);
      if (applied.length > 0) log.info('migrations applied', { migrations: applied });
      return true;
    } catch (error) {
      log.error('cannot migrate the database yet; retrying', { ...errorFields(error), retryInMs: delay });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  return false;
}

/** One worker process. Needs DATABASE_URL: `pnpm start` starts the embedded Postgres and passes it. */
async function main(): Promise<void> {
  const config = readConfig();
  const url = config.databaseUrl;
  if (!url) exitWith('DATABASE_URL is not set; run `pnpm start` for the embedded database, or set DATABASE_URL=postgres://...');
  const log: Logger = messageFirst(createLogger({ service: 'worker', level: config.logLevel, format: config.logFormat }));
  // A stray rejection must not take down a process that is holding tasks; log it loudly instead.
  process.on('unhandledRejection', (reason) => log.error('unhandled rejection', errorFields(reason)));

  const stopping = new AbortController();
  let stop: (signal: string) => void = () => {
    stopping.abort();
    process.exit(0);
  };
  // Under `tasklane start`, a Ctrl-C or a SIGTERM to the process group is the launcher's to act on:
  // it stops the workers first, over IPC (`stop`, then `stop-now` to hurry). Alone, the signals stop it.
  const supervised = process.send !== undefined;
  process.on('SIGTERM', () => !supervised && stop('SIGTERM'));
  process.on('SIGINT', () => !supervised && stop('SIGINT'));
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stop') stop('launcher: stop');
    if (message.type === 'stop-now') {
      // Hurrying needs a stop to hurry: start one first if none has begun.
      if (!stopping.signal.aborted) stop('launcher: stop');
      stop('launcher: stop-now');
    }
  });
  // The launcher died without telling us (kill -9): give the tasks back rather than run on alone.
  process.on('disconnect', () => stop('launcher gone'));

  if (!(await migrate(config.migrationDatabaseUrl ?? url, log, stopping.signal))) return;
  // A no-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set; with it, each attempt joins its submit's trace.
  const tracing = startTracing('tasklane-worker');
  const pool = createPool({
    connectionString: url,
    max: config.databasePoolSize,
    applicationName: 'tasklane-worker',
    statements: { mode: config.databasePreparedStatements, onUnnamed: (message) => log.warn(message) },
  });
  // LISTEN/NOTIFY: the worker opens its own LISTEN connection (on LISTEN_DATABASE_URL when the
  // pool goes through a transaction pooler). Redis: one bus here, fed by the worker's writes.
  const redis =
    config.eventBus === 'redis'
      ? new RedisEventBus({ url: config.redisUrl!, onError: (error) => log.warn('event bus connection trouble; reconnecting', errorFields(error)) })
      : undefined;
  // It reconnects by itself; until it is up, the claim loop's polling finds the work.
  redis?.start().catch((error: unknown) => log.warn('cannot subscribe yet; polling meanwhile', errorFields(error)));
  const worker = createWorker({
    pool,
    connectionString: config.listenDatabaseUrl ?? url,
    ...(redis ? { bus: redis, onChanges: (changes) => redis.publish(changes) } : {}),
    handlers: builtInHandlers,
    concurrency: config.workerConcurrency,
    leaseSeconds: config.leaseSeconds,
    graceMs: config.shutdownGraceSeconds * 1000,
    caps: config.caps,
    timeouts: config.taskTimeouts,
    retentionHours: config.taskRetentionHours,
    logger: log,
    tracing: tracing !== undefined,
  });
  const health =
    config.workerHealthPort === undefined
      ? undefined
      : await startHealthServer({ worker, statements: statementHealth(pool), port: config.workerHealthPort, host: config.host, registry: taskMetrics(worker) });
  // The webhook outbox is sent from worker processes (WEBHOOK_DELIVERY=off leaves it to others).
  const webhooks = config.webhooks.deliver
    ? createWebhookDispatcher({ pool, connectionString: config.listenDatabaseUrl ?? url, settings: config.webhooks, logger: log })
    : undefined;
  stop = (signal) => {
    if (stopping.signal.aborted) {
      // A second signal: no more grace; running tasks are aborted and released now.
      log.warn('stopping worker now: releasing running tasks', { signal, running: worker.running });
      void worker.stop({ graceMs: 0 });
      return;
    }
    stopping.abort();
    log.info('stopping worker', { signal, running: worker.running });
    health?.close();
    void Promise.all([worker.stop(), webhooks?.stop()])
      .then(() => redis?.close())
      .then(() => pool.end())
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error('unclean stop', errorFields(error));
          process.exit(1);
        },
      );
  };
  // One line per task this worker completed (the fenced write succeeded): what an operator
  // greps for a task's history, and what the chaos test counts to prove no task completed twice.
  worker.onTaskEvent((event) => {
    if (event.type === 'completed') log.info('task completed', { taskId: event.taskId, attempt: event.attempt, workerId: worker.id });
  });
  await worker.start();
  await webhooks?.start();
  log.info('worker ready', {
    workerId: worker.id,
    kinds: Object.keys(builtInHandlers),
    concurrency: config.workerConcurrency,
    ...(health ? { healthPort: healthServerPort(health) } : {}),
  });
}

await main();

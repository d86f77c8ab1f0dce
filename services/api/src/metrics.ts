import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { statementHealth, usesNamedStatements } from '@tasklane/db';
import type { WebhookStats } from '@tasklane/db';
import type { AppContext } from './app-context.ts';

/** The Prometheus metrics of one API process. */
export interface Metrics {
  registry: Registry;
  /** Reads the queue gauges from the database; `/metrics` calls it on every scrape. */
  collectQueue(): Promise<void>;
  /** Open GraphQL subscriptions by field, over every transport. */
  openSubscriptions: Gauge<'field'>;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
}

/**
 * Builds the registry. Queue metrics are read from Postgres at scrape time (one grouped count),
 * so every API replica reports the same cluster-wide numbers and nothing drifts between scrapes:
 * aggregate them with max(), not sum(). Each server gets its own registry, so tests can run
 * several in one process.
 */
export function createMetrics(ctx: AppContext): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tasklane_api_' });

  const tasks = new Gauge({
    name: 'tasklane_tasks',
    help: 'Tasks currently stored, by status and kind (read from the database at scrape time).',
    labelNames: ['status', 'kind'] as const,
    registers: [registry],
  });
  const attempts = new Gauge({
    name: 'tasklane_task_attempts',
    help:
      'Attempts started (claims) summed over the tasks currently stored, by kind. It falls when retention deletes finished tasks, so rate() over it is only meaningful within TASK_RETENTION_HOURS.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const oldestPending = new Gauge({
    name: 'tasklane_oldest_pending_age_seconds',
    help: 'Age of the oldest pending task; 0 when none is pending.',
    registers: [registry],
  });
  const webhookDeliveries = new Gauge({
    name: 'tasklane_webhook_deliveries',
    help:
      'Webhook deliveries currently stored, by state: waiting, delivered, failed (retries exhausted), gone (410), stopped, superseded. Read from the database at scrape time; falls with retention.',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  const webhookWaiting = new Gauge({
    name: 'tasklane_webhook_deliveries_waiting',
    help: 'Webhook deliveries waiting to be sent or retried.',
    registers: [registry],
  });
  const webhookOldest = new Gauge({
    name: 'tasklane_webhook_oldest_waiting_age_seconds',
    help: 'Age of the oldest waiting webhook delivery; 0 when none waits.',
    registers: [registry],
  });
  const scrapeErrors = new Counter({
    name: 'tasklane_metrics_queue_read_errors_total',
    help: 'Scrapes whose queue gauges could not be read from the database (they are left out of that scrape).',
    registers: [registry],
  });
  new Gauge({
    name: 'tasklane_concurrency_cap',
    help: 'Configured cluster-wide concurrency caps; kind="*" is MAX_CONCURRENT_TASKS.',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.labels('*').set(ctx.config.caps.total);
      for (const [kind, cap] of Object.entries(ctx.config.caps.perKind)) this.labels(kind).set(cap);
    },
  });
  new Gauge({
    name: 'tasklane_event_bus_connected',
    help: '1 while this process listens for task changes, 0 while it reconnects.',
    registers: [registry],
    collect() {
      this.set(ctx.bus.connected ? 1 : 0);
    },
  });
  new Counter({
    name: 'tasklane_database_statement_errors_total',
    help: 'Hot statements (the read by id, ...) that failed, by statement and error code (SQLSTATE or errno).',
    labelNames: ['statement', 'code'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of statementHealth(ctx.pool).errorCounts()) this.labels(c.statement, c.code).inc(c.count);
    },
  });
  new Gauge({
    name: 'tasklane_database_named_statements',
    help: '1 while hot statements are prepared under a name, 0 once they run unnamed (DATABASE_PREPARED_STATEMENTS).',
    registers: [registry],
    collect() {
      this.set(usesNamedStatements(ctx.pool) ? 1 : 0);
    },
  });
  new Counter({
    name: 'tasklane_feed_rows_read_total',
    help: 'Changed task rows this process read to fan out to its subscribers.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(ctx.feed.rowsRead);
    },
  });

  // One grouped query per scrape for all queue gauges. Failing, the gauges are left out rather
  // than reporting stale numbers as if they were current.
  async function collectQueue(): Promise<void> {
    tasks.reset();
    attempts.reset();
    oldestPending.reset();
    webhookDeliveries.reset();
    webhookWaiting.reset();
    webhookOldest.reset();
    let snapshot: QueueSnapshot;
    try {
      snapshot = await readQueueSnapshot(ctx);
    } catch {
      scrapeErrors.inc();
      return;
    }
    for (const c of snapshot.counts) tasks.labels(c.status, c.kind).set(c.count);
    for (const a of snapshot.attempts) attempts.labels(a.kind).set(a.attempts);
    oldestPending.set(snapshot.oldestPendingAgeSeconds ?? 0);
    for (const [state, count] of Object.entries(snapshot.webhooks.byState)) webhookDeliveries.labels(state).set(count);
    webhookWaiting.set(snapshot.webhooks.waiting);
    webhookOldest.set(snapshot.webhooks.oldestWaitingAgeSeconds ?? 0);
  }

  return {
    registry,
    collectQueue,
    openSubscriptions: new Gauge({
      name: 'tasklane_graphql_subscriptions_open',
      help: 'GraphQL subscriptions open in this process, by field (graphql-ws and SSE).',
      labelNames: ['field'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'tasklane_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

interface QueueSnapshot {
  counts: { status: string; kind: string; count: number }[];
  attempts: { kind: string; attempts: number }[];
  oldestPendingAgeSeconds: number | null;
  webhooks: WebhookStats;
}

async function readQueueSnapshot(ctx: AppContext): Promise<QueueSnapshot> {
  const [stats, attempts, webhooks] = await Promise.all([ctx.store.queueStats(), ctx.store.attemptsByKind(), ctx.webhooks.stats()]);
  return { counts: stats.counts, attempts, oldestPendingAgeSeconds: stats.oldestPendingAgeSeconds, webhooks };
}

/** `/metrics` in the Prometheus text format, and the latency of every HTTP request. */
export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  // One series per method, route pattern and status, looked up by a plain key: prom-client's own
  // `labels()` builds, sorts and hashes a label object on every call, a few per cent of a read's CPU.
  const series = new Map<string, ReturnType<Metrics['httpDuration']['labels']>>();
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL: task ids in paths would make one series per task.
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let histogram = series.get(key);
    if (!histogram) series.set(key, (histogram = metrics.httpDuration.labels(request.method, route, String(reply.statusCode))));
    histogram.observe(reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', async (_request, reply) => {
    await metrics.collectQueue();
    const body = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(body);
  });
}

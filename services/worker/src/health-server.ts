import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StatementHealth } from '@tasklane/db';
import type { Registry } from 'prom-client';
import type { Worker } from '@tasklane/worker';

export interface HealthServerOptions {
  worker: Worker;
  statements: StatementHealth;
  port: number;
  host: string;
  /** More series for /metrics (the task histograms). */
  registry?: Registry;
}

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The worker's metrics in the Prometheus text format: two series, not worth a registry. */
function metricsText(worker: Worker, statements: StatementHealth): string {
  const lines = [
    '# HELP tasklane_database_statement_errors_total Hot statements (claim, heartbeat, complete, ...) that failed, by statement and error code (SQLSTATE or errno).',
    '# TYPE tasklane_database_statement_errors_total counter',
    ...statements
      .errorCounts()
      .map((c) => `tasklane_database_statement_errors_total{statement="${label(c.statement)}",code="${label(c.code)}"} ${c.count}`),
    '# HELP tasklane_database_named_statements 1 while hot statements are prepared under a name, 0 once they run unnamed.',
    '# TYPE tasklane_database_named_statements gauge',
    `tasklane_database_named_statements ${worker.health().namedStatements ? 1 : 0}`,
    '# HELP tasklane_worker_tasks_held Tasks this worker holds (running, or storing their outcome).',
    '# TYPE tasklane_worker_tasks_held gauge',
    `tasklane_worker_tasks_held ${worker.running}`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * `WORKER_HEALTH_PORT`: the worker's own `/healthz` (alive), `/readyz` (503 naming the cause when
 * its claims, heartbeats or completions have failed for longer than a lease) and `/metrics`.
 * The worker serves it itself rather than reporting through the database, because the failure it
 * reports is precisely that it cannot write to the database.
 */
export async function startHealthServer({ worker, statements, port, host, registry }: HealthServerOptions): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
    if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, { error: 'Only GET is served here' }, { allow: 'GET, HEAD' });
    if (path === '/healthz') return json(200, { status: 'ok' });
    if (path === '/readyz') {
      const health = worker.health();
      if (!health.ready) return json(503, { status: 'unavailable', cause: health.cause, workerId: worker.id }, { 'retry-after': '5' });
      return json(200, { status: 'ready', workerId: worker.id, running: worker.running, namedStatements: health.namedStatements });
    }
    if (path === '/metrics') {
      void (registry ? registry.metrics() : Promise.resolve('')).then(
        (more) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metricsText(worker, statements) + more),
        () => json(500, { error: 'metrics could not be collected' }),
      );
      return;
    }
    json(404, { error: `No route ${path.slice(0, 200)}; this port serves /healthz, /readyz and /metrics` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export function healthServerPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

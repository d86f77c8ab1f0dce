import type { Socket } from 'node:net';
import { loadConfig } from '@tasklane/core';
import { createPool } from '@tasklane/db';
import type { HandlerFn, TaskEventListener, Worker, WorkerOptions } from '@tasklane/worker';
import { loadWorkerRuntime } from './landed.ts';
import { SkipScenario } from './types.ts';
import { countStatements } from './statement-counter.ts';

/** Caps high enough never to bind: the benchmarks measure the queue, not the limits. */
export const UNCAPPED = { total: 1_000_000, perKind: {} as Record<string, number> };

export interface BenchWorkers {
  workers: Worker[];
  /** Statements sent by each worker's pool, by name. */
  statements: Map<string, number>[];
  /** Statements of that name (every statement without one) sent by all the workers' pools. */
  statementCount(name?: string): number;
  /** Bytes the workers' pool connections sent to and received from Postgres. */
  io(): { sent: number; received: number };
  stop(): Promise<void>;
}

/**
 * Starts `count` Tasklane workers in this process, each with its own pool and LISTEN connection as
 * a separate deployment would have.
 */
export async function startWorkers(
  url: string,
  count: number,
  handlers: Record<string, HandlerFn>,
  extra: Partial<WorkerOptions> = {},
  /**
   * Told every worker's task events from the first: a listener added after `start` resolves can
   * miss completions that came before, and a drain waiting for all of them would never end.
   */
  onTaskEvent?: TaskEventListener,
): Promise<BenchWorkers> {
  const runtime = await loadWorkerRuntime();
  if (typeof runtime === 'string') throw new SkipScenario(runtime);
  // DATABASE_PREPARED_STATEMENTS=off measures what unnamed statements cost.
  const mode = loadConfig().databasePreparedStatements;
  const pools = Array.from({ length: count }, () =>
    createPool({ connectionString: url, max: 10, applicationName: 'tasklane-bench-worker', statements: { mode } }),
  );
  const statements = pools.map(countStatements);
  // Every pool connection's socket: its byte counters outlive its close.
  const sockets: Socket[] = [];
  for (const pool of pools) {
    pool.on('connect', (client) => {
      const stream = (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
      if (stream) sockets.push(stream);
    });
  }
  const workers = pools.map((pool) =>
    runtime.createWorker({ pool, connectionString: url, handlers, caps: UNCAPPED, graceMs: 2000, ...extra }),
  );
  if (onTaskEvent) for (const w of workers) w.onTaskEvent(onTaskEvent);
  await Promise.all(workers.map((w) => w.start()));
  return {
    workers,
    statements,
    statementCount: (name) =>
      statements.reduce((sum, counts) => sum + (name === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : (counts.get(name) ?? 0)), 0),
    io: () => ({
      sent: sockets.reduce((sum, s) => sum + s.bytesWritten, 0),
      received: sockets.reduce((sum, s) => sum + s.bytesRead, 0),
    }),
    async stop() {
      await Promise.all(workers.map((w) => w.stop({ graceMs: 2000 })));
      await Promise.all(pools.map((p) => p.end().catch(() => {})));
    },
  };
}

import { expect, it } from 'vitest';
import { createWorker, type LogFields } from '../src/index.ts';
import { uncapped, useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();

function recordingLogger() {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const at = (level: string) => (msg: string, fields?: LogFields) => void lines.push({ level, msg, ...(fields ? { fields } : {}) });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

it('starts, keeps retrying and stops cleanly when the database cannot be reached', async () => {
  const { lines, logger } = recordingLogger();
  const worker = createWorker({
    connectionString: 'postgres://postgres@127.0.0.1:1/nowhere',
    handlers: { video: () => null },
    concurrency: 2,
    leaseSeconds: 3,
    caps: uncapped,
    pollIntervalMs: 100,
    retentionHours: 24,
    maintenanceIntervalMs: 200,
    logger,
  });
  await worker.start();
  await waitFor(() => lines.some((l) => l.msg === 'claim failed; retrying') && lines.some((l) => l.msg === 'maintenance failed; retrying'), {
    what: 'the failures to be logged',
    timeoutMs: 15_000,
  });
  await worker.stop({ graceMs: 0 });
  expect(lines.some((l) => l.level === 'warn' && l.msg === 'cannot LISTEN yet; polling meanwhile')).toBe(true);
});

it('finishes every task when its database connections are killed mid-run', async () => {
  const TASKS = 150;
  const { logger } = recordingLogger();
  await env.store.submitMany(Array.from({ length: TASKS }, () => ({ kind: 'bumpy', maxAttempts: 5 })));
  await env.worker({
    logger,
    concurrency: 8,
    leaseSeconds: 30,
    handlers: {
      bumpy: async (_task, ctx) => {
        ctx.progress(50, 'halfway');
        await new Promise((resolve) => setTimeout(resolve, 25));
        return { ok: true };
      },
    },
  });
  let killed = 0;
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { rows } = await env.pool.query<{ n: number }>(
      `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
       where datname = current_database() and application_name in ('tasklane-worker', 'tasklane-listen')`,
    );
    killed += rows[0]!.n;
  }
  const { rows: left } = await env.pool.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where status <> 'completed'`);
  // The outage hit a worker in the middle of its work.
  expect(killed).toBeGreaterThan(0);
  expect(left[0]!.n).toBeGreaterThan(0);
  await waitFor(async () => {
    const { rows } = await env.pool.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where status = 'completed'`);
    return rows[0]!.n === TASKS;
  }, { what: 'every task to complete', timeoutMs: 45_000 });
});

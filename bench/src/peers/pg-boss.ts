import pg from 'pg';
import { PgBoss } from 'pg-boss';

const QUEUE = 'noop';

export const PGBOSS_WORKERS = 10;
export const PGBOSS_BATCH = 100;

async function startBoss(url: string): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, max: PGBOSS_WORKERS + 2 });
  boss.on('error', () => {});
  await boss.start();
  if (!(await boss.getQueue(QUEUE))) await boss.createQueue(QUEUE);
  return boss;
}

/** Inserts `n` jobs with `insert` in chunks; returns jobs per second. */
export async function pgBossInsert(url: string, n: number, chunk: number): Promise<number> {
  const boss = await startBoss(url);
  try {
    const started = performance.now();
    for (let done = 0; done < n; done += chunk) {
      const size = Math.min(chunk, n - done);
      await boss.insert(QUEUE, Array.from({ length: size }, (_, i) => ({ data: { i: done + i } })));
    }
    return n / ((performance.now() - started) / 1000);
  } finally {
    await boss.stop({ graceful: false, timeout: 5000 });
  }
}

/**
 * Drains the queued jobs with 10 workers fetching batches of 100 (and fetching again at once
 * while batches come back full, pg-boss's burst mode). The last completion time is read from
 * pg-boss's own `completed_on` column.
 */
export async function pgBossDrain(url: string, n: number, timeoutMs: number): Promise<{ perSecond: number; completed: number }> {
  const boss = await startBoss(url);
  const probe = new pg.Client({ connectionString: url });
  await probe.connect();
  const startedWall = Date.now();
  try {
    await boss.work(
      QUEUE,
      { batchSize: PGBOSS_BATCH, localConcurrency: PGBOSS_WORKERS, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true },
      async () => {},
    );
    const deadline = Date.now() + timeoutMs;
    let completed = 0;
    let lastMs = Date.now();
    while (Date.now() < deadline) {
      const { rows } = await probe.query<{ n: number; last: Date | null }>(
        `select count(*)::int as n, max(completed_on) as last from pgboss.job where name = $1 and state = 'completed'`,
        [QUEUE],
      );
      completed = rows[0]!.n;
      lastMs = rows[0]!.last?.getTime() ?? Date.now();
      if (completed >= n) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = ((completed >= n ? lastMs : Date.now()) - startedWall) / 1000;
    return { perSecond: completed / seconds, completed };
  } finally {
    await probe.end();
    await boss.stop({ graceful: false, timeout: 5000 });
  }
}

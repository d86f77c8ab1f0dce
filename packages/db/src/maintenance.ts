import type pg from 'pg';
import { appendAttemptSql } from './attempt-history.ts';
import { retryRunAtSql } from './retry-delay.ts';
import type { TaskStatus } from '@tasklane/core';
import { announce, type ChangePublishing } from './change-publisher.ts';
import { AdvisoryLock } from './advisory-locks.ts';

const RETENTION_BATCH = 1000;

export interface MaintenanceResult {
  /** False when another process holds the maintenance lock and did the work this round. */
  elected: boolean;
  requeued: number;
  failed: number;
  deleted: number;
}

export interface MaintenanceOptions extends ChangePublishing {
  retentionHours: number;
  /** First retry delay after a lost worker. @default 1 */
  retryBaseSeconds?: number;
}

/**
 * One round of cluster housekeeping, done by whichever process wins a transaction advisory lock:
 * tasks whose worker's lease expired go back to pending with backoff (or fail with WorkerLost
 * when no attempts remain), long-dead worker rows go, and terminal tasks past retention are
 * deleted in batches.
 */
export async function runMaintenance(pool: pg.Pool, { retentionHours, retryBaseSeconds = 1, onChanges }: MaintenanceOptions): Promise<MaintenanceResult> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ elected: boolean }>('select pg_try_advisory_xact_lock($1) as elected', [AdvisoryLock.maintenance]);
    if (!rows[0]?.elected) {
      await client.query('rollback');
      return { elected: false, requeued: 0, failed: 0, deleted: 0 };
    }
    const swept = await client.query<{ id: string; version: number; status: TaskStatus }>(
      `with lost as (
         select t.id, jsonb_build_object('type', 'WorkerLost',
             'message', 'The worker running this task stopped renewing its lease',
             'retryable', t.attempts < t.max_attempts) as error
         from tasklane.tasks t
         where t.status = 'processing'
           and not exists (select 1 from tasklane.workers w where w.id = t.lease_owner and w.expires_at > now())
         for update of t skip locked
       )
       update tasklane.tasks t
         set status = case when t.attempts < t.max_attempts then 'pending' else 'failed' end,
             run_at = case when t.attempts < t.max_attempts
               then ${retryRunAtSql('$1')}
               else t.run_at end,
             finished_at = case when t.attempts < t.max_attempts then null else now() end,
             error = lost.error,
             message = case when t.attempts < t.max_attempts then 'Worker lost; task will be retried'
               else 'Worker lost; no attempts left' end,
             lease_owner = null, ${appendAttemptSql('lost', 'lost.error', 't.attempts < t.max_attempts')}
       from lost where t.id = lost.id
       returning t.id, t.version, t.status`,
      [retryBaseSeconds],
    );
    await client.query(`delete from tasklane.workers where expires_at < now() - interval '1 hour'`);
    await client.query('commit');
    announce(onChanges, swept.rows);
    let deleted = 0;
    // On the connection this round already holds: taking a second one from the pool could wait on
    // a pool that other processes' rounds (or, with max 1, this round itself) have filled.
    for (;;) {
      const { rowCount } = await client.query(
        `delete from tasklane.tasks where id in (
           select id from tasklane.tasks where finished_at < now() - make_interval(secs => $1::float8 * 3600)
           limit $2 for update skip locked)`,
        [retentionHours, RETENTION_BATCH],
      );
      deleted += rowCount ?? 0;
      if ((rowCount ?? 0) < RETENTION_BATCH) break;
    }
    const requeued = swept.rows.filter((r) => r.status === 'pending').length;
    return { elected: true, requeued, failed: swept.rows.length - requeued, deleted };
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

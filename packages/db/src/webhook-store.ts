import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { TERMINAL_STATUSES, type Task, type WebhookEvent } from '@tasklane/core';
import { runStatement } from './statements.ts';
import { snapshotTask } from './task-row.ts';

/** Where a delivery stands: waiting (to be sent or retried) or one of the ends. */
export type DeliveryState = 'waiting' | 'delivered' | 'failed' | 'gone' | 'stopped' | 'superseded';
export type AttemptOutcome = 'delivered' | 'failed' | 'gone';

/** A delivery claimed for one attempt. */
export interface ClaimedDelivery {
  id: string;
  taskId: string;
  owner: string;
  url: string;
  event: WebhookEvent;
  /** The task as it was at the change. */
  task: Task;
  changedAt: Date;
  /** This attempt's number, from 1: the fencing token for recording its outcome. */
  attempt: number;
}

export interface AttemptRecord {
  id: string;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  outcome: AttemptOutcome;
  /** For a failure: when to try again, or null when no attempts are left. */
  retryInMs: number | null;
}

export interface DeliveryAttempt {
  attempt: number;
  at: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  outcome: AttemptOutcome;
}

/** One delivery of the log, with its attempts. */
export interface Delivery {
  id: string;
  event: WebhookEvent;
  url: string;
  state: DeliveryState;
  createdAt: Date;
  /** When a waiting delivery is next due. */
  nextAttemptAt: Date | null;
  attempts: DeliveryAttempt[];
}

export interface WebhookSecret {
  secret: string;
  createdAt: Date;
  /** The secret before the last rotation, still signing until `previousExpiresAt`. */
  previousExpiresAt: Date | null;
}

export interface WebhookStats {
  byState: Record<string, number>;
  waiting: number;
  oldestWaitingAgeSeconds: number | null;
}

/** A secret as the Standard Webhooks spec has them: `whsec_` and base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** How long both secrets sign after a rotation. */
export const SECRET_OVERLAP_HOURS = 24;

interface ClaimRow {
  id: string;
  task_id: string;
  owner: string;
  url: string;
  event: WebhookEvent;
  snapshot: Record<string, unknown>;
  attempts: number;
  changed_at: Date;
  gone: boolean;
}

/**
 * The webhook outbox and its secrets. Deliveries are written by 0011's trigger in the transaction
 * of each change; here they are claimed, their attempts recorded, and read back as a log.
 */
export class WebhookStore {
  constructor(readonly pool: pg.Pool) {}

  /**
   * Claims up to `max` due deliveries for one attempt each, locked for `lockMs` (the timeout and a
   * margin): another process takes a delivery only after that, so one attempt is sent once. Only
   * the head of each task's queue is due, at most `perUrl` per URL, none to `busyUrls`.
   */
  async claimDue(max: number, { lockMs, perUrl, busyUrls = [] }: { lockMs: number; perUrl: number; busyUrls?: readonly string[] }): Promise<ClaimedDelivery[]> {
    if (max <= 0) return [];
    // Through runStatement like every named statement, so behind a transaction pooler it falls back to unnamed.
    const { rows } = await runStatement<ClaimRow>(this.pool, {
      name: 'tasklane_webhook_claim',
      text: `with heads as (
               select d.id, d.task_id, d.url, d.due_at from tasklane.webhook_deliveries d
               where d.state = 'waiting' and d.due_at <= now() and (d.locked_until is null or d.locked_until < now())
                 and d.url <> all($4::text[])
                 and not exists (
                   select 1 from tasklane.webhook_deliveries e where e.task_id = d.task_id and e.state = 'waiting' and e.seq < d.seq
                 )
               order by d.due_at
               limit $1 * 4
               for update of d skip locked
             ), picked as (
               select h.id, h.gone from (
                 select id, due_at,
                   row_number() over (partition by url order by due_at) as rn,
                   -- A 410 from this URL for this task committed after this delivery was written.
                   exists (
                     select 1 from tasklane.webhook_deliveries g where g.task_id = heads.task_id and g.url = heads.url and g.state = 'gone'
                   ) as gone
                 from heads
               ) h
               where h.rn <= $3 order by h.due_at limit $1
             )
             update tasklane.webhook_deliveries d
               set attempts = case when p.gone then d.attempts else d.attempts + 1 end,
                   locked_until = case when p.gone then null else now() + make_interval(secs => $2::float8 / 1000) end,
                   state = case when p.gone then 'stopped' else d.state end,
                   finished_at = case when p.gone then now() else d.finished_at end
             from picked p where d.id = p.id
             returning d.id, d.task_id, d.owner, d.url, d.event, d.snapshot, d.attempts, d.changed_at, p.gone`,
      values: [max, lockMs, perUrl, busyUrls],
    });
    return rows.filter((r) => !r.gone).map((r) => ({
      id: r.id,
      taskId: r.task_id,
      owner: r.owner,
      url: r.url,
      event: r.event,
      task: snapshotTask(r.snapshot),
      changedAt: r.changed_at,
      attempt: r.attempts,
    }));
  }

  /**
   * Logs an attempt and moves its delivery on: delivered; retried later; failed for good; or, for
   * a 410, gone with every later delivery of the task to that URL stopped. A failed progress or
   * processing delivery with a newer one behind it is superseded instead of retried: the newer
   * state goes next, and the older one can no longer arrive after it. Fenced by the attempt
   * number: an attempt whose lock ran out and was taken over records nothing.
   */
  async recordAttempt(record: AttemptRecord): Promise<boolean> {
    const { rows } = await runStatement<{ id: string }>(this.pool, {
      name: 'tasklane_webhook_record',
      text: `with moved as (
               update tasklane.webhook_deliveries d
                 set state = case
                       when $7 = 'delivered' then 'delivered'
                       when $7 = 'gone' then 'gone'
                       when $8::float8 is null then 'failed'
                       when d.event <> all($9::text[]) and exists (
                         select 1 from tasklane.webhook_deliveries e where e.task_id = d.task_id and e.seq > d.seq and e.state = 'waiting'
                       ) then 'superseded'
                       else 'waiting' end,
                     due_at = case when $8::float8 is null then d.due_at else now() + make_interval(secs => $8::float8 / 1000) end,
                     finished_at = case when $7 <> 'failed' or $8::float8 is null then now() end,
                     locked_until = null, last_status = $5, last_error = $6
               where d.id = $1 and d.attempts = $2 and d.state = 'waiting'
               returning d.id, d.task_id, d.url, d.event, d.state
             ), logged as (
               insert into tasklane.webhook_attempts (delivery_id, attempt, task_id, event, started_at, duration_ms, status_code, error, outcome)
               select m.id, $2, m.task_id, m.event, $3, $4, $5, $6, $7 from moved m
             ), spaced as (
               -- The progress throttle, on send times: the next progress goes 2 s after this one was answered.
               update tasklane.webhook_deliveries d set due_at = greatest(d.due_at, now() + interval '2 seconds')
               from moved m
               where m.state = 'delivered' and m.event = 'progress' and d.task_id = m.task_id and d.state = 'waiting'
                 and d.event = 'progress' and d.attempts = 0
             ), stopped as (
               update tasklane.webhook_deliveries d set state = 'stopped', finished_at = now()
               from moved m
               where m.state = 'gone' and d.task_id = m.task_id and d.url = m.url and d.state = 'waiting' and d.id <> m.id
             )
             select id from moved`,
      values: [
        record.id,
        record.attempt,
        record.startedAt,
        Math.round(record.durationMs),
        record.statusCode,
        record.error,
        record.outcome,
        record.retryInMs,
        [...TERMINAL_STATUSES],
      ],
    });
    return rows.length === 1;
  }

  /** The deliveries of one task, oldest first, each with its attempts. */
  async deliveries(taskId: string): Promise<Delivery[]> {
    const { rows } = await this.pool.query<{
      id: string;
      event: WebhookEvent;
      url: string;
      state: DeliveryState;
      created_at: Date;
      due_at: Date;
      attempts: { attempt: number; at: string; duration_ms: number; status_code: number | null; error: string | null; outcome: AttemptOutcome }[];
    }>(
      `select d.id, d.event, d.url, d.state, d.created_at, d.due_at,
              coalesce((select jsonb_agg(jsonb_build_object('attempt', a.attempt, 'at', a.started_at, 'duration_ms', a.duration_ms,
                          'status_code', a.status_code, 'error', a.error, 'outcome', a.outcome) order by a.attempt)
                        from tasklane.webhook_attempts a where a.delivery_id = d.id), '[]'::jsonb) as attempts
       from tasklane.webhook_deliveries d where d.task_id = $1 order by d.seq`,
      [taskId],
    );
    return rows.map((r) => ({
      id: r.id,
      event: r.event,
      url: r.url,
      state: r.state,
      createdAt: r.created_at,
      nextAttemptAt: r.state === 'waiting' ? r.due_at : null,
      attempts: r.attempts.map((a) => ({
        attempt: a.attempt,
        at: new Date(a.at),
        durationMs: a.duration_ms,
        statusCode: a.status_code,
        error: a.error,
        outcome: a.outcome,
      })),
    }));
  }

  /**
   * Sends the task's latest event again: a waiting delivery is made due now; otherwise the latest
   * one is copied as a new delivery (a new webhook-id: it is a new message, which the receiver
   * should not drop as a duplicate). Undefined when the task has had no delivery yet, 'gone' when
   * its receiver answered 410.
   */
  async redeliver(taskId: string): Promise<Delivery | 'gone' | undefined> {
    const gone = await this.pool.query(`select 1 from tasklane.webhook_deliveries where task_id = $1 and state = 'gone' limit 1`, [taskId]);
    // The receiver said 410 Gone: it wants nothing more about this task.
    if (gone.rows.length > 0) return 'gone';
    const hurried = await this.pool.query<{ id: string }>(
      `update tasklane.webhook_deliveries set due_at = now() where task_id = $1 and state = 'waiting' returning id, seq`,
      [taskId],
    );
    let id = hurried.rows.at(-1)?.id;
    if (id === undefined) {
      const copied = await this.pool.query<{ id: string }>(
        `insert into tasklane.webhook_deliveries (id, task_id, owner, url, event, snapshot, changed_at)
         select 'msg_' || replace(gen_random_uuid()::text, '-', ''), d.task_id, d.owner, d.url, d.event, d.snapshot, d.changed_at
         from tasklane.webhook_deliveries d where d.task_id = $1 order by d.seq desc limit 1
         returning id`,
        [taskId],
      );
      id = copied.rows[0]?.id;
    }
    if (id === undefined) return undefined;
    await this.pool.query(`select pg_notify('tasklane_webhook', '')`);
    return (await this.deliveries(taskId)).find((d) => d.id === id);
  }

  /** The owner's signing secret, made on first use. */
  async secret(owner: string): Promise<WebhookSecret> {
    for (;;) {
      const found = await this.readOrMakeSecret(owner);
      // Empty only when another first read made it at the same moment: read again.
      if (found) return found;
    }
  }

  private async readOrMakeSecret(owner: string): Promise<WebhookSecret | undefined> {
    const { rows } = await this.pool.query<{ secret: string; created_at: Date; previous_expires_at: Date | null }>(
      `with made as (
         insert into tasklane.webhook_secrets (owner, secret) values ($1, $2) on conflict (owner) do nothing
         returning secret, created_at, previous_expires_at
       )
       select * from made
       union all
       select secret, created_at, case when previous_expires_at > now() then previous_expires_at end
       from tasklane.webhook_secrets where owner = $1 and not exists (select 1 from made)`,
      [owner, newWebhookSecret()],
    );
    const row = rows[0];
    if (!row) return undefined;
    return { secret: row.secret, createdAt: row.created_at, previousExpiresAt: row.previous_expires_at };
  }

  /** Every secret that signs for the owner now: the current one, and the previous during the overlap. */
  async signingSecrets(owner: string): Promise<string[]> {
    await this.secret(owner);
    const { rows } = await this.pool.query<{ secret: string; previous_secret: string | null }>(
      `select secret, case when previous_expires_at > now() then previous_secret end as previous_secret
       from tasklane.webhook_secrets where owner = $1`,
      [owner],
    );
    const row = rows[0]!;
    return row.previous_secret ? [row.secret, row.previous_secret] : [row.secret];
  }

  /** A new secret; the old one keeps signing for `SECRET_OVERLAP_HOURS` beside it. */
  async rotateSecret(owner: string): Promise<WebhookSecret> {
    await this.secret(owner);
    const { rows } = await this.pool.query<{ secret: string; created_at: Date; previous_expires_at: Date | null }>(
      `update tasklane.webhook_secrets
         set previous_secret = secret, previous_expires_at = now() + make_interval(hours => $3), secret = $2, created_at = now()
       where owner = $1
       returning secret, created_at, previous_expires_at`,
      [owner, newWebhookSecret(), SECRET_OVERLAP_HOURS],
    );
    const row = rows[0]!;
    return { secret: row.secret, createdAt: row.created_at, previousExpiresAt: row.previous_expires_at };
  }

  /** Deliveries by state, how many wait, and the age of the oldest waiting one (for /metrics). */
  async stats(): Promise<WebhookStats> {
    const [states, oldest] = await Promise.all([
      this.pool.query<{ state: string; n: number }>('select state, count(*)::int as n from tasklane.webhook_deliveries group by state'),
      this.pool.query<{ age: number | null }>(
        `select extract(epoch from now() - min(created_at))::float8 as age from tasklane.webhook_deliveries where state = 'waiting'`,
      ),
    ]);
    const byState: Record<string, number> = {};
    for (const r of states.rows) byState[r.state] = r.n;
    return { byState, waiting: byState.waiting ?? 0, oldestWaitingAgeSeconds: oldest.rows[0]?.age ?? null };
  }
}

import type pg from 'pg';
import { HeldSlots } from './rate-limit-slots.ts';
import {
  neverFits,
  secondsUntil,
  type RateDecision,
  type RateLimiter,
  type RateLimiterOptions,
  type RateRule,
  type SlotDecision,
} from './rate-limit.ts';

export interface PgRateLimiterOptions extends RateLimiterOptions {
  /** How often finished windows and expired slots are deleted. @default 60000 */
  pruneEveryMs?: number;
}

interface TakeRow {
  now_ms: number;
  window_end: number;
  used: number | null;
  taken_end: number | null;
  current_used: number | null;
  current_end: number | null;
}

/**
 * Spends `$2` units of key `$1`'s quota of `$3` per window of `$4` ms, in one statement: the
 * upsert's row lock serialises concurrent takers of one key, and its WHERE sees the newest count.
 * A refusal updates nothing and returns `used` null; `current_*` (the row as it was when the
 * statement began) then say how much is used and when the window ends. A row from an older window
 * restarts at the cost; a row from a newer one (a taker that read the clock a moment earlier) is
 * counted into, never moved back.
 */
const TAKE_SQL = `
  with clock as (
    select coalesce($5::float8, extract(epoch from clock_timestamp()) * 1000)::float8 as now_ms
  ), win as (
    select now_ms, (floor(now_ms / $4) * $4 + $4)::bigint as window_end from clock
  ), current_row as (
    select used, window_end from tasklane.rate_limits where key = $1
  ), taken as (
    insert into tasklane.rate_limits as r (key, window_end, used)
      select $1, win.window_end, $2 from win
      on conflict (key) do update
        set window_end = greatest(r.window_end, excluded.window_end),
            used = case when excluded.window_end > r.window_end then excluded.used else r.used + excluded.used end
        where case when excluded.window_end > r.window_end then excluded.used <= $3 else r.used + excluded.used <= $3 end
      returning r.used, r.window_end
  )
  select win.now_ms, win.window_end, taken.used, taken.window_end as taken_end, current_row.used as current_used, current_row.window_end as current_end
  from win left join taken on true left join current_row on true`;

/**
 * The default limiter: counters in the task database, so a deployment needs nothing more. One
 * statement per submission decision; one function call per subscription slot.
 */
export class PgRateLimiter implements RateLimiter {
  private readonly slots: HeldSlots;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: PgRateLimiterOptions = {},
  ) {
    this.slots = new HeldSlots(
      {
        renew: async (_held, ttlMs) => {
          // Every slot of this process in one statement, whichever keys they belong to.
          await this.pool.query(
            `update tasklane.rate_limit_slots
               set expires_at = coalesce(to_timestamp($3::float8 / 1000), clock_timestamp()) + make_interval(secs => $2::float8 / 1000)
             where holder = $1`,
            [this.slots.holder, ttlMs, this.nowParam()],
          );
        },
        remove: async (_key, id) => {
          await this.pool.query('delete from tasklane.rate_limit_slots where id = $1', [id]);
        },
      },
      options,
    );
    this.pruneTimer = setInterval(() => void this.prune().catch((error: Error) => options.onError?.(error)), options.pruneEveryMs ?? 60_000);
    this.pruneTimer.unref();
  }

  get holder(): string {
    return this.slots.holder;
  }

  private nowParam(): number | null {
    return this.options.now ? this.options.now() : null;
  }

  async take(key: string, cost: number, rule: RateRule): Promise<RateDecision> {
    if (cost > rule.limit) return neverFits(rule);
    const windowMs = rule.windowSeconds * 1000;
    const { rows } = await this.pool.query<TakeRow>(TAKE_SQL, [key, cost, rule.limit, windowMs, this.nowParam()]);
    const row = rows[0]!;
    if (row.used !== null) {
      const end = row.taken_end ?? row.window_end;
      return { allowed: true, remaining: rule.limit - row.used, resetSeconds: secondsUntil(row.now_ms, end), retryAfterSeconds: 0 };
    }
    // Refused: the window that is full is the newer of ours and the stored one.
    const end = Math.max(row.window_end, row.current_end ?? 0);
    const used = row.current_end !== null && row.current_end >= row.window_end ? (row.current_used ?? rule.limit) : rule.limit;
    // The count read when the statement began may be older than the one that refused: whatever it
    // says, fewer units than the cost were left.
    const remaining = Math.max(0, Math.min(rule.limit - used, cost - 1));
    const reset = secondsUntil(row.now_ms, end);
    return { allowed: false, remaining, resetSeconds: reset, retryAfterSeconds: reset };
  }

  async acquire(key: string, limit: number): Promise<SlotDecision> {
    const id = this.slots.newId();
    const { rows } = await this.pool.query<{ granted: boolean; held: number }>(
      'select granted, held from tasklane.take_rate_limit_slot($1, $2, $3, $4, $5, $6)',
      [id, key, this.slots.holder, limit, this.slots.ttlMs, this.nowParam()],
    );
    const row = rows[0]!;
    if (!row.granted) return { allowed: false, held: row.held };
    return { allowed: true, slot: this.slots.add(key, id) };
  }

  /** Renews this process's slots now instead of waiting for the next heartbeat. */
  heartbeat(): Promise<void> {
    return this.slots.beat();
  }

  /** Stops renewing without giving the slots back: what a process that dies does (for tests). */
  abandon(): void {
    this.slots.abandon();
    clearInterval(this.pruneTimer);
  }

  /** Deletes windows that have ended and slots that have expired. Any process may run it. */
  async prune(): Promise<void> {
    const now = this.nowParam();
    await this.pool.query(
      'delete from tasklane.rate_limits where window_end < coalesce($1::float8, extract(epoch from clock_timestamp()) * 1000)',
      [now],
    );
    await this.pool.query(
      'delete from tasklane.rate_limit_slots where expires_at < coalesce(to_timestamp($1::float8 / 1000), clock_timestamp())',
      [now],
    );
  }

  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.slots.releaseAll();
  }
}

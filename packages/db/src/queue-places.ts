import type pg from 'pg';
import { queuePlace, type ConcurrencyCaps, type QueuePlace, type Task } from '@tasklane/core';
import { toTask, type TaskRow } from './task-row.ts';

/** Completions a kind's mean run time is taken over, from the newest finished tasks of every kind. */
const RECENT_FINISHED = 500;

interface PlaceRow {
  id: string;
  kind: string;
  owner: string;
  ahead: number | null;
  until_due: number;
}

interface StateRow {
  live_worker: boolean;
  paused: string[];
  total_running: number;
  by_kind: Record<string, number>;
  by_owner: Record<string, number>;
  owner_caps: Record<string, number>;
  mean_run: Record<string, number>;
  running_for: Record<string, number[]>;
}

/**
 * Each pending task's place in its kind's ready queue (0008's claim order: priority, then
 * fair_rank, then id), counted in tasks_ready: one indexed count per task, whatever else waits.
 * A task not ranked yet but due (no claim has come by since) counts every ready task of its kind
 * at its priority or higher as ahead. Counts are numbers only: nothing of the tasks ahead leaves.
 */
const placesOf = (columns: string) => `
  select ${columns},
    case
      when t.run_at > now() then null
      when t.fair_rank is null then (
        select count(*) from tasklane.tasks a
        where a.status = 'pending' and a.fair_rank is not null and a.kind = t.kind and a.priority >= t.priority)
      else (
        select count(*) from tasklane.tasks a
        where a.status = 'pending' and a.fair_rank is not null and a.kind = t.kind and a.priority > t.priority)
      + (
        select count(*) from tasklane.tasks a
        where a.status = 'pending' and a.fair_rank is not null and a.kind = t.kind and a.priority = t.priority
          and (a.fair_rank, a.id) < (t.fair_rank, t.id))
    end::int as ahead,
    extract(epoch from t.run_at - now())::float8 as until_due
  from tasklane.tasks t
  where t.id = any($1::text[]) and t.status = 'pending'`;
const PLACES = placesOf('t.id, t.kind, t.owner');
/** The same, with each task's whole row: what the queue pusher hands subscribers. */
const PLACES_WITH_ROWS = placesOf('t.*');

/** What runs now, against which caps, and how long the kinds' recent tasks took. */
const STATE = `
  select
    exists (select 1 from tasklane.workers w where w.expires_at > now()) as live_worker,
    array(select kind from tasklane.kind_pauses where kind = any($1::text[])) as paused,
    (select count(*) from tasklane.tasks where status = 'processing')::int as total_running,
    coalesce((select jsonb_object_agg(kind, n) from (
      select kind, count(*)::int as n from tasklane.tasks where status = 'processing' group by kind) r), '{}') as by_kind,
    coalesce((select jsonb_object_agg(owner, n) from (
      select owner, count(*)::int as n from tasklane.tasks where status = 'processing' and owner = any($2::text[]) group by owner) r), '{}')
      as by_owner,
    coalesce((select jsonb_object_agg(owner, cap) from (
      select owner, max(max_concurrent) as cap from tasklane.api_keys
      where max_concurrent is not null and revoked_at is null and owner = any($2::text[]) group by owner) r), '{}') as owner_caps,
    coalesce((select jsonb_object_agg(kind, mean) from (
      select kind, avg(extract(epoch from completed_at - started_at))::float8 as mean
      from (select kind, status, started_at, completed_at from tasklane.tasks
            where finished_at is not null order by finished_at desc limit ${RECENT_FINISHED}) f
      where status = 'completed' and started_at is not null and kind = any($1::text[]) group by kind) r), '{}') as mean_run,
    coalesce((select jsonb_object_agg(kind, ran) from (
      select kind, array_agg(extract(epoch from now() - started_at)::float8) as ran
      from tasklane.tasks where status = 'processing' and kind = any($1::text[]) group by kind) r), '{}') as running_for`;

/** A pending task as read together with its place (see {@link pendingPlaces}). */
export interface PlacedTask {
  task: Task;
  place: QueuePlace;
}

function placeFrom(row: PlaceRow, s: StateRow, caps: ConcurrencyCaps): QueuePlace {
  return queuePlace({
    kind: row.kind,
    ahead: row.ahead,
    secondsUntilDue: row.until_due,
    liveWorker: s.live_worker,
    paused: s.paused.includes(row.kind),
    totalRunning: s.total_running,
    totalCap: caps.total,
    kindRunning: s.by_kind[row.kind] ?? 0,
    kindCap: caps.perKind[row.kind],
    ownerRunning: s.by_owner[row.owner] ?? 0,
    ownerCap: s.owner_caps[row.owner] ?? caps.perOwner,
    meanRunSeconds: s.mean_run[row.kind],
    runningFor: s.running_for[row.kind] ?? [],
  });
}

/**
 * Where each pending task among `tasks` stands in its kind's queue, by id (others are left out).
 * Two reads whatever the number of tasks.
 */
export async function queuePlaces(pool: pg.Pool, tasks: readonly Task[], caps: ConcurrencyCaps): Promise<Map<string, QueuePlace>> {
  const pending = tasks.filter((t) => t.status === 'pending');
  const out = new Map<string, QueuePlace>();
  if (pending.length === 0) return out;
  const kinds = [...new Set(pending.map((t) => t.kind))];
  const owners = [...new Set(pending.map((t) => t.owner))];
  const [places, state] = await Promise.all([
    pool.query<PlaceRow>(PLACES, [pending.map((t) => t.id)]),
    pool.query<StateRow>(STATE, [kinds, owners]),
  ]);
  for (const row of places.rows) out.set(row.id, placeFrom(row, state.rows[0]!, caps));
  return out;
}

/**
 * The rows and places of those of `ids` that are pending now, for the queue pusher: it knows
 * only which ids are followed, so the rows come with the places (one statement), and the state
 * of the caps follows for the kinds and owners found (a second). Two reads however many ids; each
 * id costs one indexed count, so the cost grows with the ids asked about, not with the queue.
 */
export async function pendingPlaces(pool: pg.Pool, ids: readonly string[], caps: ConcurrencyCaps): Promise<PlacedTask[]> {
  if (ids.length === 0) return [];
  const places = await pool.query<TaskRow & PlaceRow>(PLACES_WITH_ROWS, [ids]);
  if (places.rows.length === 0) return [];
  const kinds = [...new Set(places.rows.map((r) => r.kind))];
  const owners = [...new Set(places.rows.map((r) => r.owner))];
  const state = await pool.query<StateRow>(STATE, [kinds, owners]);
  return places.rows.map((row) => ({ task: toTask(row), place: placeFrom(row, state.rows[0]!, caps) }));
}

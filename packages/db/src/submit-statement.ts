import { jsonTextArray } from './json-text-array.ts';
import type { Statement } from './statements.ts';
import { MESSAGE_SQL } from './status-message-sql.ts';

/** A validated task on its way into tasklane.tasks: its columns as the statement sends them. */
export interface PreparedTask {
  id: string;
  kind: string;
  service: string | null;
  owner: string;
  /** The input as JSON text. */
  input: string;
  priority: number;
  run_at: string | null;
  max_attempts: number;
  idempotency_key: string | null;
  request_hash: string | null;
  /** The webhook as JSON text, or null. */
  webhook: string | null;
  /** As JSON text; null when none. */
  metadata: string | null;
  trace_parent: string | null;
}

/** What a submit statement answers: the database's clock, and which keyed tasks went in. */
export interface InsertedBatch {
  /** The ids of the tasks with an idempotency key that were inserted (absent: there were none). */
  keyed_ids?: string[];
  now_ms: number;
  created_ms: number;
}

/**
 * A column of a batch insert: the one value every task has, or (`value` null) one per task. The
 * statements read `coalesce(each, value)`, so a per-task null stays null.
 */
interface Column<T> {
  value: T | null;
  each: T[] | null;
}

function byColumn<K extends keyof PreparedTask>(prepared: readonly PreparedTask[], key: K): Column<PreparedTask[K]> {
  const first = prepared[0]![key];
  for (const p of prepared) if (p[key] !== first) return { value: null, each: prepared.map((q) => q[key]) };
  return { value: first, each: null };
}

const INSERTED_COLUMNS = `id, kind, service, owner, status, message, input, priority, run_at, max_attempts, idempotency_key, request_hash,
  webhook, metadata, trace_parent, fair_rank`;

/** The statement's clock: `updated_at` and `run_at` are `now()`, `created_at` the same to the millisecond. */
const BATCH_CLOCK = `(extract(epoch from now()) * 1000)::float8 as now_ms,
  (extract(epoch from now()::timestamptz(3)) * 1000)::float8 as created_ms`;

/**
 * The one statement that inserts a batch of `owner`'s tasks (non-empty). One array per column
 * (measured faster than one jsonb document of records); a column with the same value for every
 * task (the owner always; the kind, defaults and nulls mostly) goes as that one value and a null
 * array, which unnest pads with nulls: each array element costs an escape here and a parse there.
 * Only what the database decides comes back (see {@link InsertedBatch}).
 *
 * Due tasks go straight into the ready queue after the owner's last one (0008's fair order);
 * later ones are ranked by a claim when due.
 */
export function submitStatement(owner: string, prepared: readonly PreparedTask[]): Statement {
  // Both statements are named (prepared): a single submit is mostly the statement's parse and
  // plan, which a prepared one skips.
  const kind = byColumn(prepared, 'kind');
  const service = byColumn(prepared, 'service');
  const priority = byColumn(prepared, 'priority');
  const runAt = byColumn(prepared, 'run_at');
  const maxAttempts = byColumn(prepared, 'max_attempts');
  const key = byColumn(prepared, 'idempotency_key');
  const webhook = byColumn(prepared, 'webhook');
  const metadata = byColumn(prepared, 'metadata');
  const traceParent = byColumn(prepared, 'trace_parent');
  // Ids (letters, digits and _) and inputs (JSON.stringify's text) are what jsonTextArray takes.
  const ids = jsonTextArray(prepared.map((p) => p.id));
  const inputs = jsonTextArray(prepared.map((p) => p.input));
  const shared = [service, maxAttempts, webhook, metadata, traceParent].flatMap((c) => [c.value, c.each]);
  if (kind.each === null && priority.each === null && runAt.each === null && runAt.value === null && key.each === null && key.value === null) {
    // One kind and priority, all due now, no idempotency key: what a bulk submit mostly is. The
    // ranking per (kind, priority) below reduces to one base plus the position, and with no key
    // there is no conflict to look for (an ON CONFLICT insert writes one more WAL record per
    // row). The same rows as the general statement, for about an eighth less database time.
    // The base is a materialized CTE: a plain subquery let the planner inline fair_rank_base
    // into the insert's select list and run its two index probes per row (240 against 24 ms for
    // 1,000 tasks).
    return {
      name: 'tasklane_submit_plain',
      text: `with base as materialized (
         select tasklane.fair_rank_base($3, $4::text, $5::int) as rank
       ), inserted as (
         insert into tasklane.tasks (${INSERTED_COLUMNS})
         select x.id, $3, coalesce(x.service, $6), $4::text, 'pending', ${MESSAGE_SQL.pending}, x.input::jsonb, $5::int, now(),
                coalesce(x.max_attempts, $8), null, null, coalesce(x.webhook, $10)::jsonb, coalesce(x.metadata, $12)::jsonb,
                coalesce(x.trace_parent, $14), base.rank + x.ord - 1
         from unnest($1::text[], $2::text[], $7::text[], $9::int[], $11::text[], $13::text[], $15::text[])
                with ordinality as x(id, input, service, max_attempts, webhook, metadata, trace_parent, ord),
              base
       )
       select ${BATCH_CLOCK}`,
      values: [ids, inputs, kind.value, owner, priority.value, ...shared],
    };
  }
  const hash = byColumn(prepared, 'request_hash');
  return {
    name: 'tasklane_submit',
    text: `with x as (
       select x.id, x.input, coalesce(x.kind, $3) as kind, coalesce(x.priority, $6) as priority,
              coalesce(x.run_at, $8, now()) as run_at, coalesce(x.idempotency_key, $10) as idempotency_key,
              coalesce(x.request_hash, $12) as request_hash, coalesce(x.service, $14) as service,
              coalesce(x.max_attempts, $16) as max_attempts, coalesce(x.webhook, $18)::jsonb as webhook,
              coalesce(x.metadata, $20)::jsonb as metadata, coalesce(x.trace_parent, $22) as trace_parent, x.ord
       from unnest($1::text[], $2::text[], $4::text[], $7::int[], $9::timestamptz[], $11::text[], $13::text[], $15::text[],
                   $17::int[], $19::text[], $21::text[], $23::text[])
              with ordinality as x(id, input, kind, priority, run_at, idempotency_key, request_hash, service, max_attempts, webhook,
                                   metadata, trace_parent, ord)
     ), due as (
       select x.id, g.base + row_number() over (partition by x.kind, x.priority order by x.ord) - 1 as fair_rank
       from x join (
         select kind, priority, tasklane.fair_rank_base(kind, $5::text, priority) as base
         from x where run_at <= now() group by kind, priority
       ) g using (kind, priority)
       where x.run_at <= now()
     ), inserted as (
       insert into tasklane.tasks (${INSERTED_COLUMNS})
       select x.id, x.kind, x.service, $5::text, 'pending', ${MESSAGE_SQL.pending}, x.input::jsonb, x.priority, x.run_at,
              x.max_attempts, x.idempotency_key, x.request_hash, x.webhook, x.metadata, x.trace_parent, due.fair_rank
       from x left join due using (id)
       on conflict (owner, idempotency_key) where idempotency_key is not null do nothing
       returning id, idempotency_key
     )
     select array(select id from inserted where idempotency_key is not null) as keyed_ids, ${BATCH_CLOCK}`,
    values: [
      ids,
      inputs,
      kind.value,
      kind.each,
      owner,
      priority.value,
      priority.each,
      runAt.value,
      runAt.each,
      key.value,
      key.each,
      hash.value,
      hash.each,
      ...shared,
    ],
  };
}

import type pg from 'pg';

/**
 * Paused kinds (0012): no worker claims a pending task of a paused kind, in any process, until it
 * is resumed; tasks already running finish. A pause is a row of `tasklane.kind_pauses`, so it
 * holds across restarts and for every API and worker process at once.
 */

/** One paused kind. */
export interface KindPause {
  kind: string;
  pausedAt: Date;
  /** The owner of the key that paused it. */
  pausedBy: string | null;
}

interface PauseRow {
  kind: string;
  paused_at: Date;
  paused_by: string | null;
}

const pause = (row: PauseRow): KindPause => ({ kind: row.kind, pausedAt: row.paused_at, pausedBy: row.paused_by });

/** Pauses `kind`; pausing a paused kind keeps its first pause (time and who). Answers the pause. */
export async function pauseKind(pool: pg.Pool, kind: string, pausedBy: string | null): Promise<KindPause> {
  const { rows } = await pool.query<PauseRow>(
    `insert into tasklane.kind_pauses as p (kind, paused_by) values ($1, $2)
     on conflict (kind) do update set paused_by = p.paused_by
     returning p.kind, p.paused_at, p.paused_by`,
    [kind, pausedBy],
  );
  return pause(rows[0]!);
}

/** Resumes `kind`; answers whether it was paused (resuming a running kind changes nothing). */
export async function resumeKind(pool: pg.Pool, kind: string): Promise<boolean> {
  const { rowCount } = await pool.query('delete from tasklane.kind_pauses where kind = $1', [kind]);
  return (rowCount ?? 0) > 0;
}

/** Every paused kind, by kind. */
export async function kindPauses(pool: pg.Pool): Promise<Map<string, KindPause>> {
  const { rows } = await pool.query<PauseRow>('select kind, paused_at, paused_by from tasklane.kind_pauses order by kind');
  return new Map(rows.map((row) => [row.kind, pause(row)]));
}

/** Pending tasks of `kind`, every owner's: what a pause holds. Counted in the partial pending indexes. */
export async function pendingOfKind(pool: pg.Pool, kind: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from tasklane.tasks where status = 'pending' and kind = $1", [kind]);
  return rows[0]!.n;
}

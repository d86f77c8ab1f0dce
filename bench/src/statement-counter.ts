import type pg from 'pg';

/** Counts the statements a pool sends, by prepared-statement name (`tasklane_claim`, `tasklane_heartbeat`, ...). */
export function countStatements(pool: pg.Pool): Map<string, number> {
  const counts = new Map<string, number>();
  const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const first = args[0] as { name?: string } | string;
    // Prepared names carry a hash of their text (`tasklane_claim_1a2b3c4d5e`); unnamed statements
    // (DATABASE_PREPARED_STATEMENTS=off) count as 'other'.
    const name = typeof first === 'object' && first?.name ? first.name.replace(/_[0-9a-f]{10}$/, '') : 'other';
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return original(...args);
  };
  return counts;
}

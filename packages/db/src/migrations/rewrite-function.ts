import { type Kysely, sql } from 'kysely';

/**
 * Replaces the one occurrence of `from` in a stored function's definition by `to`, and runs the
 * result: a migration that changes one expression of a long function states only that expression,
 * and the rest of the body stays byte for byte what shipped. Refuses unless `from` occurs exactly
 * once, so a rewrite never lands somewhere its author did not look.
 */
export async function rewriteFunction(db: Kysely<unknown>, migration: string, signature: string, from: string, to: string): Promise<void> {
  const { rows } = await sql<{ definition: string }>`select pg_get_functiondef(${signature}::regprocedure) as definition`.execute(db);
  const definition = rows[0]!.definition;
  const occurrences = definition.split(from).length - 1;
  if (occurrences !== 1) throw new Error(`${migration}: expected "${from}" once in ${signature}, found it ${occurrences} times`);
  await sql.raw(definition.replace(from, to)).execute(db);
}

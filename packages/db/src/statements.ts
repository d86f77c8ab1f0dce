import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { PreparedStatementsMode } from '@tasklane/core';
import { errorCode, StatementHealth } from './statement-health.ts';

/** A hot statement: prepared once per connection under its name, where the pool allows it. */
export interface Statement {
  /** Names it in metrics and logs (`tasklane_claim`); the prepared name adds a hash of `text`. */
  name: string;
  text: string;
  values: unknown[];
}

/**
 * What a transaction pooler without prepared-statement support (PgBouncer before 1.21 in
 * transaction mode, Supavisor, others) answers when a statement lands on another server
 * connection than the one it was prepared on: "already exists" (42P05) or "does not exist"
 * (26000). Both are raised before the statement runs, so retrying it unnamed cannot run it twice.
 */
const POOLER_CODES: ReadonlySet<string> = new Set(['42P05', '26000']);

export interface StatementSettings {
  /** @default 'auto' */
  mode?: PreparedStatementsMode;
  /** Told once, when `auto` turns named statements off. @default a line on stderr */
  onUnnamed?: (message: string) => void;
}

class PoolStatements {
  named: boolean;
  readonly health = new StatementHealth();

  constructor(
    readonly mode: PreparedStatementsMode,
    private readonly onUnnamed: (message: string) => void,
  ) {
    this.named = mode !== 'off';
  }

  switchToUnnamed(statement: string, error: unknown): void {
    if (!this.named) return;
    this.named = false;
    const reason = error instanceof Error ? error.message : String(error);
    this.onUnnamed(
      `named prepared statements are off for this process from now on: ${statement} got "${reason}" (${errorCode(error)}), ` +
        'as behind a transaction pooler that cannot keep them; it was retried unnamed. Set DATABASE_PREPARED_STATEMENTS=off to start this way',
    );
  }
}

const byPool = new WeakMap<pg.Pool, PoolStatements>();

function statementsOf(pool: pg.Pool): PoolStatements {
  let statements = byPool.get(pool);
  if (!statements) {
    statements = new PoolStatements('auto', (message) => console.warn(`tasklane: ${message}`));
    byPool.set(pool, statements);
  }
  return statements;
}

/** Sets how `pool` runs statements; `createPool` calls it. */
export function configureStatements(pool: pg.Pool, { mode = 'auto', onUnnamed }: StatementSettings = {}): void {
  byPool.set(pool, new PoolStatements(mode, onUnnamed ?? ((message) => console.warn(`tasklane: ${message}`))));
}

/** Whether `pool` still prepares named statements (false after `auto` fell back, or with `off`). */
export function usesNamedStatements(pool: pg.Pool): boolean {
  return statementsOf(pool).named;
}

/** Errors and stuck statements of `pool`, for `/readyz` and metrics. */
export function statementHealth(pool: pg.Pool): StatementHealth {
  return statementsOf(pool).health;
}

const preparedNames = new Map<string, string>();

/**
 * The name a statement is prepared under: its name plus a hash of its text. Two versions of
 * Tasklane behind one pooler (a rolling upgrade) then never run each other's statement text under
 * a shared name, which a pooler that hands out server connections at random would otherwise allow.
 */
function preparedName(statement: Statement): string {
  const key = `${statement.name}\n${statement.text}`;
  let name = preparedNames.get(key);
  if (name === undefined) {
    name = `${statement.name}_${createHash('sha1').update(statement.text).digest('hex').slice(0, 10)}`;
    preparedNames.set(key, name);
  }
  return name;
}

/**
 * Runs a hot statement on `pool`: named (prepared once per connection) unless the pool's mode or
 * an earlier pooler refusal says otherwise. Under `auto`, a pooler refusal turns named statements
 * off for the pool and the same statement is sent again unnamed, so the caller never sees it.
 */
export async function runStatement<R extends pg.QueryResultRow>(pool: pg.Pool, statement: Statement): Promise<pg.QueryResult<R>> {
  const statements = statementsOf(pool);
  const { health } = statements;
  if (statements.named) {
    try {
      const result = await pool.query<R>({ name: preparedName(statement), text: statement.text, values: statement.values });
      health.succeeded(statement.name);
      return result;
    } catch (error) {
      health.failed(statement.name, error);
      if (statements.mode !== 'auto' || !POOLER_CODES.has(errorCode(error))) throw error;
      statements.switchToUnnamed(statement.name, error);
    }
  }
  try {
    const result = await pool.query<R>({ text: statement.text, values: statement.values });
    health.succeeded(statement.name);
    return result;
  } catch (error) {
    health.failed(statement.name, error);
    throw error;
  }
}

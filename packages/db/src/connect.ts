import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from './schema.ts';
import { KeepingPool } from './keeping-pool.ts';
import { configureStatements, type StatementSettings } from './statements.ts';
import { parseTimestamptz, TIMESTAMPTZ_OID } from './timestamptz.ts';

// int8 (version, counts) as a JS number: versions and counts stay far below 2^53.
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === TIMESTAMPTZ_OID && format !== 'binary') return parseTimestamptz;
    return pg.types.getTypeParser(oid, format ?? 'text');
  },
};

export interface PoolOptions {
  connectionString: string;
  /** Connections in the pool. @default 10 */
  max?: number;
  applicationName?: string;
  /** How hot statements run: `DATABASE_PREPARED_STATEMENTS` (`auto` falls back to unnamed behind a pooler). */
  statements?: StatementSettings;
}

export function createPool({ connectionString, max = 10, applicationName = 'tasklane', statements }: PoolOptions): pg.Pool {
  const pool = new KeepingPool({ connectionString, max, types, application_name: applicationName, connectionTimeoutMillis: 10_000 });
  configureStatements(pool, statements);
  // An idle client that loses its server (restart, outage) emits here; without a listener the
  // process would crash. The pool drops the client and the next query opens a new one.
  pool.on('error', () => {});
  // A client checked out of the pool (by Kysely, or mid-query) whose server goes away emits
  // 'error' as well as failing its query; pg-pool listens only while a client is idle, and an
  // unheard 'error' ends the process. The failed query reports it, and the pool drops the client
  // on release since it is no longer queryable.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export function createDb(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** A single connection outside any pool, for LISTEN and for admin work. */
export function createClient(connectionString: string, applicationName = 'tasklane'): pg.Client {
  return new pg.Client({ connectionString, types, application_name: applicationName });
}

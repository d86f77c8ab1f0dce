import pg from 'pg';

/**
 * Whether a failed query left its connection unusable. An error Postgres reports about a
 * statement (a constraint, a refused prepared statement, a timeout it cancelled) leaves the
 * session as good as before; a lost socket or a FATAL/PANIC ends it.
 */
export function connectionBroken(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError)) return true;
  return error.severity === 'FATAL' || error.severity === 'PANIC';
}

/**
 * pg's `Pool`, except that a promise-style `query` whose statement fails gives its connection back
 * instead of closing it. pg's own `Pool.query` closes the connection on any error, and it closes
 * it at once, before Postgres has said it is ready again; behind PgBouncer in transaction mode that
 * also closes the server connection in use ("client disconnect while server was not ready"), so
 * one refused or failed statement cost everybody behind the pooler a connection, and the server
 * connection's prepared statements with it.
 */
export class KeepingPool extends pg.Pool {
  // pg's overloads (config objects, text and values, callbacks) all come through here.
  override query(...args: any[]): any {
    if (typeof args.at(-1) === 'function') return (super.query as (...a: any[]) => any)(...args);
    return this.queryKeeping(args[0], args[1]);
  }

  private async queryKeeping(config: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> {
    const client = await this.connect();
    // A socket that dies mid-query fails the query and also emits 'error' on the client, then or
    // later; the query's rejection reports it, and an unheard 'error' would end the process. A
    // broken client keeps this listener: the pool discards it.
    const ignore = () => {};
    client.on('error', ignore);
    try {
      const result = await client.query(config as pg.QueryConfig, values);
      client.removeListener('error', ignore);
      client.release();
      return result;
    } catch (error) {
      const broken = connectionBroken(error);
      if (!broken) client.removeListener('error', ignore);
      client.release(broken ? (error as Error) : undefined);
      throw error;
    }
  }
}

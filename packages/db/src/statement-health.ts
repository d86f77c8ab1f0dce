/** One statement that has failed every time since its last success. */
interface Failing {
  since: number;
  last: number;
  error: string;
  code: string;
}

const RECENT_MS = 30_000;

export interface StatementErrorCount {
  statement: string;
  code: string;
  count: number;
}

/** The error code Postgres gave (SQLSTATE), or the socket's errno code, or `unknown`. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  if (error instanceof AggregateError) return errorCode(error.errors[0]);
  return 'unknown';
}

/**
 * How the named statements of one pool are faring: errors counted by statement and code, and
 * which statements have failed every time for a while. A process whose claim, heartbeat or
 * completion has not gone through for longer than a lease is wedged, whether the database is away
 * or a pooler refuses its statements, and must say so instead of retrying quietly.
 */
export class StatementHealth {
  private readonly failing = new Map<string, Failing>();
  private readonly counts = new Map<string, StatementErrorCount>();

  succeeded(statement: string): void {
    if (this.failing.size > 0) this.failing.delete(statement);
  }

  failed(statement: string, error: unknown, now = Date.now()): void {
    const code = errorCode(error);
    const key = `${statement} ${code}`;
    const count = this.counts.get(key);
    if (count) count.count++;
    else this.counts.set(key, { statement, code, count: 1 });
    const message = error instanceof Error ? error.message : String(error);
    const failing = this.failing.get(statement);
    if (failing) Object.assign(failing, { last: now, error: message, code });
    else this.failing.set(statement, { since: now, last: now, error: message, code });
  }

  /** Milliseconds `statement` has been failing without a success in between; 0 when it is not. */
  failingForMs(statement: string, now = Date.now()): number {
    const failing = this.failing.get(statement);
    return failing ? now - failing.since : 0;
  }

  /**
   * Why this process cannot do its work: a statement whose failures, with no success in between,
   * have gone on for longer than `thresholdMs`, and that was still failing lately (a statement
   * that stopped being sent says nothing about now; "lately" is at least 30 s, longer than a retry
   * backoff plus a connect timeout). A shorter outage is never reported, however long the
   * statement then goes unsent. Undefined when healthy.
   */
  problem(thresholdMs: number, now = Date.now()): string | undefined {
    const lately = Math.max(thresholdMs, RECENT_MS);
    for (const [statement, f] of this.failing) {
      if (f.last - f.since > thresholdMs && now - f.last <= lately) {
        const seconds = Math.round((now - f.since) / 1000);
        return `statement ${statement} has failed for ${seconds} s: ${f.error.slice(0, 300)} (${f.code})`;
      }
    }
    return undefined;
  }

  /** Every failure since the process started, by statement and error code. */
  errorCounts(): StatementErrorCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }
}

/**
 * When a task retried after its `attempts`-th attempt may run again: exponential from the base
 * (seconds, given as the SQL parameter `baseParam`), capped at five minutes, with jitter between
 * half and all of it so that many tasks failing together do not return in lockstep. Used by a
 * failed attempt and by the lease sweep, so both back off alike. `t` is the tasks row.
 */
export function retryRunAtSql(baseParam: string): string {
  return `now() + make_interval(secs => least(300, ${baseParam}::float8 * 2 ^ (t.attempts - 1)) * (0.5 + random() / 2))`;
}

/**
 * The embedded Postgres could not start. The message is one line: what went wrong and what to do
 * about it, fit to print as is (an exception from inside never reaches the user raw).
 */
export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
}

/** The last FATAL/PANIC/ERROR line of a server's output, or its last line. */
export function lastServerError(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  const fatal = lines.filter((line) => /\b(FATAL|PANIC|ERROR):/.test(line)).at(-1);
  return (fatal ?? lines.at(-1) ?? 'no output').replace(/^.*?\b(FATAL|PANIC|ERROR):\s*/, '');
}

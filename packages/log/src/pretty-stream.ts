import type { DestinationStream } from 'pino';

const COLOURS: Record<string, string> = { trace: '90', debug: '36', info: '32', warn: '33', error: '31', fatal: '35' };
/** Shown in the line's head, not again among its fields. */
const HEAD = new Set(['time', 'level', 'service', 'pid', 'msg']);

function show(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** One JSON line from pino as `12:00:01.234 INFO  worker  task completed taskId=vid_… attempt=1`. */
export function formatLine(json: string, colours: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const level = String(entry.level ?? '');
  const label = level.toUpperCase().padEnd(5);
  const head = `${time} ${colours && COLOURS[level] ? `\u001b[${COLOURS[level]}m${label}\u001b[0m` : label} ${String(entry.service ?? '').padEnd(8)} ${String(entry.msg ?? '')}`;
  const fields = Object.entries(entry)
    .filter(([key]) => !HEAD.has(key))
    .map(([key, value]) => `${key}=${show(value)}`);
  return fields.length > 0 ? `${head} ${fields.join(' ')}` : head;
}

/** A pino destination that writes readable lines to `out` (a terminal). */
export function prettyStream(out: DestinationStream, { colours }: { colours: boolean }): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) out.write(`${formatLine(line, colours)}\n`);
    },
  };
}

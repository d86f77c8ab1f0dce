import type { Task, TaskStatus } from '@tasklane/client';
import { UsageError } from '../exit-codes.ts';
import { integerOption, parseCommand, positionals, REMOTE_OPTIONS } from '../parse-options.ts';
import { withClient } from '../remote-client.ts';
import { formatTaskTable } from '../output/task-table.ts';

export const LIST_USAGE = `Usage: tasklane list [--status <s,...>] [--kind <k,...>] [--limit <n>] [--json] [--url <url>]

Lists tasks, newest first, as a table.

Options:
  --status <s,...>   Only these statuses: pending, processing, completed, failed, cancelled
  --kind <k,...>     Only these kinds
  --limit <n>        At most this many tasks, 1 to 10000 (default 20)
  --json             Print a JSON array`;

const OPTIONS = {
  ...REMOTE_OPTIONS,
  status: { type: 'string', multiple: true },
  kind: { type: 'string', multiple: true },
  limit: { type: 'string' },
} as const;

const STATUSES: readonly TaskStatus[] = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'];
const DEFAULT_LIMIT = 20;

/** `--status a,b --status c` → ['a', 'b', 'c'], so both spellings work. */
function splitList(values: string[] | undefined): string[] | undefined {
  const items = values?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  return items && items.length > 0 ? items : undefined;
}

function parseStatuses(values: string[] | undefined): TaskStatus[] | undefined {
  return splitList(values)?.map((raw) => {
    const status = raw.toUpperCase() as TaskStatus;
    if (!STATUSES.includes(status)) throw new UsageError(`list: unknown status "${raw}"; use ${STATUSES.map((s) => s.toLowerCase()).join(', ')}`);
    return status;
  });
}

/** `tasklane list`. */
export async function runList(args: string[]): Promise<number> {
  const { values, positionals: given } = parseCommand('list', args, OPTIONS);
  if (values.help) {
    console.log(LIST_USAGE);
    return 0;
  }
  positionals('list', given, []);
  const status = parseStatuses(values.status);
  const kind = splitList(values.kind);
  const limit = integerOption('list', 'limit', values.limit, 1, 10_000) ?? DEFAULT_LIMIT;
  const tasks = await withClient(values.url, async (client) => {
    const found: Task[] = [];
    for await (const task of client.list({ status, kind, limit, order: 'DESC' })) found.push(task);
    return found;
  });
  process.stdout.write(`${values.json ? JSON.stringify(tasks) : formatTaskTable(tasks)}\n`);
  return 0;
}

import type { Task } from '@tasklane/client';
import { integerOption, parseCommand, positionals, REMOTE_OPTIONS } from '../parse-options.ts';
import { withClient } from '../remote-client.ts';
import { formatTaskTable } from '../output/task-table.ts';
import { FILTER_OPTIONS, FILTER_USAGE, parseTaskFilter } from '../task-filter-options.ts';

export const LIST_USAGE = `Usage: tasklane list [--status <s,...>] [--kind <k,...>] [--metadata <key=value>] [--limit <n>] [--json] [--url <url>]

Lists tasks, newest first, as a table.

Options:
${FILTER_USAGE}
  --limit <n>              At most this many tasks, 1 to 10000 (default 20)
  --json                   Print a JSON array`;

const OPTIONS = {
  ...REMOTE_OPTIONS,
  ...FILTER_OPTIONS,
  limit: { type: 'string' },
} as const;

const DEFAULT_LIMIT = 20;

/** `tasklane list`. */
export async function runList(args: string[]): Promise<number> {
  const { values, positionals: given } = parseCommand('list', args, OPTIONS);
  if (values.help) {
    console.log(LIST_USAGE);
    return 0;
  }
  positionals('list', given, []);
  const filter = parseTaskFilter('list', values);
  const limit = integerOption('list', 'limit', values.limit, 1, 10_000) ?? DEFAULT_LIMIT;
  const tasks = await withClient(values.url, async (client) => {
    const found: Task[] = [];
    for await (const task of client.list({ ...filter, limit, order: 'DESC' })) found.push(task);
    return found;
  });
  process.stdout.write(`${values.json ? JSON.stringify(tasks) : formatTaskTable(tasks)}\n`);
  return 0;
}

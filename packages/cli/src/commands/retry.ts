import { UsageError } from '../exit-codes.ts';
import { runBulk } from '../bulk-action.ts';
import { parseCommand, REMOTE_OPTIONS } from '../parse-options.ts';
import { withClient } from '../remote-client.ts';
import { formatTaskDetails } from '../output/task-details.ts';
import { FILTER_OPTIONS, FILTER_USAGE, isEmptyFilter, parseTaskFilter } from '../task-filter-options.ts';

export const RETRY_USAGE = `Usage: tasklane retry <id> [--json] [--url <url>]
       tasklane retry (--status <s,...> | --kind <k,...> | --metadata <key=value> | --all) [--json] [--url <url>]

Re-runs a failed or cancelled task as a new task with the same kind, service, input, priority and
metadata, and prints the new task. The original stays as it was. A pending, processing or
completed task, or one already re-run, cannot be retried (exit 4).

With filters instead of an id, re-runs every failed or cancelled task that matches them and has
not been re-run yet, a page of at most 1000 at a time.

Options:
${FILTER_USAGE}
  --all                    Every task (instead of filters)`;

const OPTIONS = { ...REMOTE_OPTIONS, ...FILTER_OPTIONS, all: { type: 'boolean', default: false } } as const;

/** `tasklane retry <id>`, or `tasklane retry <filters>` for many. */
export async function runRetry(args: string[]): Promise<number> {
  const { values, positionals: given } = parseCommand('retry', args, OPTIONS);
  if (values.help) {
    console.log(RETRY_USAGE);
    return 0;
  }
  const filter = parseTaskFilter('retry', values);
  if (given.length > 1) throw new UsageError(`retry: unexpected argument "${given[1]}"`);
  const [id] = given;
  if (id !== undefined) {
    if (!isEmptyFilter(filter) || values.all) throw new UsageError('retry: give a task id or filters, not both');
    const task = await withClient(values.url, (client) => client.retry(id));
    process.stdout.write(`${values.json ? JSON.stringify(task) : formatTaskDetails(task)}\n`);
    return 0;
  }
  if (isEmptyFilter(filter) && !values.all) throw new UsageError('retry: missing <id> (or filters such as --status failed, or --all)');
  const totals = await withClient(values.url, (client) => runBulk(client, (c, f) => c.retryMatching(f), filter));
  if (values.json) process.stdout.write(`${JSON.stringify(totals)}\n`);
  else process.stdout.write(`Retried ${totals.changed} of ${totals.matched} matching tasks\n`);
  return 0;
}

import { UsageError } from '../exit-codes.ts';
import { runBulk } from '../bulk-action.ts';
import { parseCommand, REMOTE_OPTIONS } from '../parse-options.ts';
import { withClient } from '../remote-client.ts';
import { FILTER_OPTIONS, FILTER_USAGE, isEmptyFilter, parseTaskFilter } from '../task-filter-options.ts';

export const CANCEL_USAGE = `Usage: tasklane cancel <id> [--json] [--url <url>]
       tasklane cancel (--status <s,...> | --kind <k,...> | --metadata <key=value> | --all) [--json] [--url <url>]

Cancels a pending or processing task. Cancelling a cancelled task again succeeds; a completed or
failed one cannot be cancelled (exit 4).

With filters instead of an id, cancels every pending or processing task that matches them (all
must match), a page of at most 1000 at a time, and prints how many matched and how many it
cancelled. --all matches every task you can see.

Options:
${FILTER_USAGE}
  --all                    Every task (instead of filters)`;

const OPTIONS = { ...REMOTE_OPTIONS, ...FILTER_OPTIONS, all: { type: 'boolean', default: false } } as const;

/** `tasklane cancel <id>`, or `tasklane cancel <filters>` for many. */
export async function runCancel(args: string[]): Promise<number> {
  const { values, positionals: given } = parseCommand('cancel', args, OPTIONS);
  if (values.help) {
    console.log(CANCEL_USAGE);
    return 0;
  }
  const filter = parseTaskFilter('cancel', values);
  if (given.length > 1) throw new UsageError(`cancel: unexpected argument "${given[1]}"`);
  const [id] = given;
  if (id !== undefined) {
    if (!isEmptyFilter(filter) || values.all) throw new UsageError('cancel: give a task id or filters, not both');
    const outcome = await withClient(values.url, (client) => client.cancel(id));
    if (values.json) process.stdout.write(`${JSON.stringify(outcome)}\n`);
    else process.stdout.write(`${outcome.alreadyCancelled ? `Task ${id} was already cancelled` : outcome.message}\n`);
    return 0;
  }
  // A bare `tasklane cancel` must not cancel everything by accident.
  if (isEmptyFilter(filter) && !values.all) throw new UsageError('cancel: missing <id> (or filters such as --status pending, or --all)');
  const totals = await withClient(values.url, (client) => runBulk(client, (c, f) => c.cancelMatching(f), filter));
  if (values.json) process.stdout.write(`${JSON.stringify(totals)}\n`);
  else process.stdout.write(`Cancelled ${totals.changed} of ${totals.matched} matching tasks\n`);
  return 0;
}

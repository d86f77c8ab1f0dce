import { followTask } from '../follow-task.ts';
import { parseCommand, positionals, REMOTE_OPTIONS, secondsOption } from '../parse-options.ts';
import { withClient } from '../remote-client.ts';

export const WATCH_USAGE = `Usage: tasklane watch <id> [--timeout <seconds>] [--json] [--url <url>]

Shows the task's progress live until it ends (one redrawn line on a terminal, a line per change
otherwise; --json prints one JSON document per state).

Exit codes: 0 completed, 1 failed, 2 cancelled, 3 timed out, 4 usage or connection error.`;

const OPTIONS = { ...REMOTE_OPTIONS, timeout: { type: 'string' } } as const;

/** `tasklane watch <id>`. */
export async function runWatch(args: string[]): Promise<number> {
  const { values, positionals: given } = parseCommand('watch', args, OPTIONS);
  if (values.help) {
    console.log(WATCH_USAGE);
    return 0;
  }
  const [id] = positionals('watch', given, ['id']);
  const timeout = secondsOption('watch', 'timeout', values.timeout);
  return withClient(values.url, (client) => followTask(client, id!, { json: values.json, timeout, out: process.stdout }));
}

import { parseCommand, positionals, REMOTE_OPTIONS } from '../parse-options.ts';
import { withClient } from '../remote-client.ts';

export const CANCEL_USAGE = `Usage: tasklane cancel <id> [--json] [--url <url>]

Cancels a pending or processing task. Cancelling a cancelled task again succeeds; a completed or
failed one cannot be cancelled (exit 4).`;

/** `tasklane cancel <id>`. */
export async function runCancel(args: string[]): Promise<number> {
  const { values, positionals: given } = parseCommand('cancel', args, REMOTE_OPTIONS);
  if (values.help) {
    console.log(CANCEL_USAGE);
    return 0;
  }
  const [id] = positionals('cancel', given, ['id']);
  const outcome = await withClient(values.url, (client) => client.cancel(id!));
  if (values.json) process.stdout.write(`${JSON.stringify(outcome)}\n`);
  else process.stdout.write(`${outcome.alreadyCancelled ? `Task ${id} was already cancelled` : outcome.message}\n`);
  return 0;
}

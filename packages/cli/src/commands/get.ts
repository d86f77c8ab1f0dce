import { parseCommand, positionals, REMOTE_OPTIONS } from '../parse-options.ts';
import { withClient } from '../remote-client.ts';
import { formatTaskDetails } from '../output/task-details.ts';

export const GET_USAGE = `Usage: tasklane get <id> [--json] [--url <url>]

Prints one task as it is now.`;

/** `tasklane get <id>`. */
export async function runGet(args: string[]): Promise<number> {
  const { values, positionals: given } = parseCommand('get', args, REMOTE_OPTIONS);
  if (values.help) {
    console.log(GET_USAGE);
    return 0;
  }
  const [id] = positionals('get', given, ['id']);
  const task = await withClient(values.url, (client) => client.get(id!));
  process.stdout.write(`${values.json ? JSON.stringify(task) : formatTaskDetails(task)}\n`);
  return 0;
}

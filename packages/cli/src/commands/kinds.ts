import type { KindState } from '@tasklane/client';
import { UsageError } from '../exit-codes.ts';
import { parseCommand, positionals, REMOTE_OPTIONS } from '../parse-options.ts';
import { withClient } from '../remote-client.ts';

export const KINDS_USAGE = `Usage: tasklane kinds [list] [--json] [--url <url>]
       tasklane kinds <pause|resume> <kind> [--json] [--url <url>]

  list            Every kind with its live workers, pending tasks and whether it is paused
  pause <kind>    Stop every worker from claiming pending tasks of <kind>; running tasks finish.
                  The pause is kept in the database until resumed (needs an admin key)
  resume <kind>   Let workers claim its pending tasks again (needs an admin key)

Options:
  --json          Print the kind (or the list) as JSON
  --url <url>     Server address (default TASKLANE_URL or http://localhost:8000)

The key comes from TASKLANE_API_KEY when the server runs with AUTH=on.`;

/** One kind in words: "video  paused since 2026-12-01T09:30:00Z  2 live workers  14 pending". */
export function formatKind(kind: KindState): string {
  const state = kind.paused ? `paused since ${(kind.pausedAt ?? '').replace(/\.\d+Z$/, 'Z')}` : 'running';
  const workers = `${kind.liveWorkers} live worker${kind.liveWorkers === 1 ? '' : 's'}`;
  return `${kind.kind}  ${state}  ${workers}  ${kind.pending} pending`;
}

/** `tasklane kinds`, `tasklane kinds pause <kind>`, `tasklane kinds resume <kind>`. */
export async function runKinds(args: string[]): Promise<number> {
  const { values, positionals: given } = parseCommand('kinds', args, REMOTE_OPTIONS);
  if (values.help) {
    console.log(KINDS_USAGE);
    return 0;
  }
  const [action = 'list'] = given;
  if (action === 'list') {
    positionals('kinds list', given.slice(1), []);
    const { kinds } = await withClient(values.url, (client) => client.queueStats());
    if (values.json) process.stdout.write(`${JSON.stringify(kinds)}\n`);
    else process.stdout.write(`${kinds.length === 0 ? 'No kinds.' : kinds.map(formatKind).join('\n')}\n`);
    return 0;
  }
  if (action !== 'pause' && action !== 'resume') throw new UsageError(`kinds: unknown action "${action}" (list, pause or resume)`);
  const [kind] = positionals(`kinds ${action}`, given.slice(1), ['kind']);
  const state = await withClient(values.url, (client) => (action === 'pause' ? client.pauseKind(kind!) : client.resumeKind(kind!)));
  process.stdout.write(`${values.json ? JSON.stringify(state) : formatKind(state)}\n`);
  return 0;
}

#!/usr/bin/env node
import { ConfigError } from '@tasklane/core';
import { EmbeddedPostgresError } from '@tasklane/db';
import { runStart } from './commands/start.ts';
import { runMigrate } from './commands/migrate.ts';
import { runSubmit } from './commands/submit.ts';
import { runGet } from './commands/get.ts';
import { runList } from './commands/list.ts';
import { runWatch } from './commands/watch.ts';
import { runCancel } from './commands/cancel.ts';
import { runRetry } from './commands/retry.ts';
import { runKeys } from './commands/keys.ts';
import { runKinds } from './commands/kinds.ts';
import { runWebhooks } from './commands/webhooks.ts';
import { EXIT } from './exit-codes.ts';
import { describeFailure } from './report-error.ts';

const USAGE = `Usage: tasklane <command> [options]

Run the system:
  start [--workers N]   Start the whole system: Postgres (embedded unless DATABASE_URL is set),
                        migrations, the API on PORT (8000) and N worker processes (default 1)
  migrate               Bring the database to the latest schema and exit

Work with tasks (on --url, TASKLANE_URL, or http://localhost:8000):
  submit <kind>         Queue a task (--input '<json>' | --input-file f, --wait, --priority n,
                        --max-attempts n, --idempotency-key k, --timeout s, --webhook URL)
  get <id>              Show one task
  list                  Table of tasks, newest first (--status, --kind, --metadata k=v, --limit)
  watch <id>            Live progress until the task ends (--timeout s)
  cancel <id>           Cancel a pending or processing task (or every match of --status, --kind, --metadata)
  retry <id>            Re-run a failed or cancelled task as a new one (or every match of the filters)
  keys                  Manage API keys: create --owner <name> [--admin], list, revoke <id>
  kinds                 List kinds; pause <kind> / resume <kind> stops or restarts its claims (admin)
  webhooks secret       Print the webhook signing secret (rotate: a new one; --owner for another)
  help                  Show this text; \`tasklane <command> --help\` shows a command's options

Every task command takes --json for scripts. watch and submit --wait exit with
0 completed, 1 failed, 2 cancelled, 3 timed out, 4 usage or connection error.`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  start: runStart,
  migrate: () => runMigrate(),
  submit: runSubmit,
  get: runGet,
  list: runList,
  watch: runWatch,
  cancel: runCancel,
  retry: runRetry,
  keys: runKeys,
  kinds: runKinds,
  webhooks: (args) => runWebhooks(args),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`tasklane: unknown command "${command}"\n\n${USAGE}`);
    return EXIT.usage;
  }
  return run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const failure = describeFailure(error);
  if (failure) {
    console.error(`tasklane: ${failure.reason}`);
    process.exitCode = failure.code;
  } else if (error instanceof EmbeddedPostgresError) {
    // start, migrate, keys: the embedded Postgres could not start; the message says why and what to do.
    console.error(`tasklane: ${error.message}`);
    process.exitCode = 1;
  } else if (error instanceof ConfigError) {
    // start and migrate: a bad setting in the environment.
    console.error(`tasklane: ${error.message}`);
    process.exitCode = 2;
  } else {
    console.error(`tasklane: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = EXIT.usage;
  }
}

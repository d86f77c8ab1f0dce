#!/usr/bin/env node
import { ConfigError } from '@tasklane/core';
import { runStart } from './commands/start.ts';
import { runMigrate } from './commands/migrate.ts';

const USAGE = `Usage: tasklane <command>

Commands:
  start [--workers N]   Start the whole system: Postgres (embedded unless DATABASE_URL is set),
                        migrations, the API on PORT (8000) and N worker processes (default 1)
  migrate               Bring the database to the latest schema and exit
  help                  Show this text`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return runStart(rest);
    case 'migrate':
      return runMigrate();
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`tasklane: unknown command "${command}"\n\n${USAGE}`);
      return 4;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`tasklane: ${error.message}`);
    process.exitCode = 2;
  } else {
    console.error(`tasklane: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 4;
  }
}

import { loadConfig, ConfigError } from '@tasklane/core';
import { migrateToLatest } from '@tasklane/db';
import { createAppContext } from './create-app-context.ts';
import { buildServer } from './server.ts';

/**
 * One API process. Needs DATABASE_URL: `pnpm start` starts the embedded Postgres and passes it.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`tasklane api: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  if (!config.databaseUrl) {
    console.error('tasklane api: DATABASE_URL is not set; run `pnpm start` for the embedded database, or set DATABASE_URL=postgres://...');
    process.exit(2);
  }
  await migrateToLatest(config.databaseUrl);
  const ctx = await createAppContext(config, config.databaseUrl);
  const app = await buildServer(ctx, { logger: config.logLevel === 'silent' ? false : { level: config.logLevel } });
  await app.listen({ port: config.port, host: config.host });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping api');
    await app.close();
    await ctx.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

await main();

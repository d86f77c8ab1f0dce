import { loadConfig } from '@tasklane/core';
import { migrateToLatest, resolveDatabase } from '@tasklane/db';

/** `tasklane migrate`: against DATABASE_URL, or the embedded database when it is not set. */
export async function runMigrate(): Promise<number> {
  const config = loadConfig();
  const database = await resolveDatabase(config);
  try {
    const applied = await migrateToLatest(database.url);
    console.log(applied.length ? `Applied ${applied.join(', ')}` : 'Database schema is up to date');
    return 0;
  } finally {
    await database.embedded?.stop();
  }
}

import type { TestProject } from 'vitest/node';
import { createClient, migrateToLatest, startEmbeddedPostgres, withDatabase, type EmbeddedPostgresHandle } from '@tasklane/db';

/**
 * Once per test run: find a Postgres (DATABASE_URL, or an embedded one on a throwaway data
 * directory), create a template database and migrate it. Each test file then clones its own
 * database from the template (`createTestDatabase`).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let embedded: EmbeddedPostgresHandle | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    embedded = await startEmbeddedPostgres({ ephemeral: true });
    adminUrl = embedded.url;
  }
  // Names carry this run's id, so that test runs sharing one server (CI's two suites, developers
  // running several at once) never drop each other's databases.
  const runId = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  const template = `tasklane_tpl_${runId}`;
  const admin = createClient(adminUrl, 'tasklane-test-setup');
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  await admin.end();
  await migrateToLatest(withDatabase(adminUrl, template));

  project.provide('tasklaneAdminUrl', adminUrl);
  project.provide('tasklaneTemplateDb', template);
  project.provide('tasklaneDbPrefix', `tasklane_t_${runId}_`);

  return async () => {
    const client = createClient(adminUrl, 'tasklane-test-teardown');
    await client.connect();
    // Test files drop their own databases; this catches the ones a crashed test of this run left.
    const { rows } = await client.query<{ datname: string }>(
      `select datname from pg_database where starts_with(datname, $1) or datname = $2`,
      [`tasklane_t_${runId}_`, template],
    );
    for (const { datname } of rows) await client.query(`drop database if exists ${datname} with (force)`);
    await client.end();
    await embedded?.stop();
  };
}

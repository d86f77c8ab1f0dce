import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '@tasklane/core';
import { migrateToLatest, resolveDatabase } from '@tasklane/db';

// The launcher starts the services as processes, as a deployment would: it imports nothing from them.
const SERVICES = {
  api: fileURLToPath(new URL('../../../../services/api/src/main.ts', import.meta.url)),
  worker: fileURLToPath(new URL('../../../../services/worker/src/main.ts', import.meta.url)),
} as const;
const WEB_DIR = fileURLToPath(new URL('../../../../services/web/', import.meta.url));
const STOP_TIMEOUT_MS = 30_000;
const MAX_RESTART_DELAY_MS = 10_000;

interface Supervised {
  name: string;
  script: string;
  child?: ChildProcess;
  restartDelayMs: number;
}

function log(msg: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', service: 'launcher', msg, ...fields }));
}

/**
 * The API serves the dashboard from services/web/dist, which is not committed: build it on the
 * first start (about a second). A failed build is not fatal; /dashboard then says how to build it.
 */
async function buildDashboardIfMissing(): Promise<void> {
  if (process.env['TASKLANE_DASHBOARD_DIR'] || existsSync(join(WEB_DIR, 'dist', 'index.html'))) return;
  let viteBin: string;
  try {
    // vite is a devDependency of services/web; its bin is not in its exports, so go through package.json.
    const manifest = createRequire(join(WEB_DIR, 'package.json')).resolve('vite/package.json');
    const bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { vite: string } }).bin.vite;
    viteBin = join(dirname(manifest), bin);
  } catch {
    log('dashboard not built and vite is not installed; /dashboard will say how to build it');
    return;
  }
  log('building the dashboard', { dir: WEB_DIR });
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [viteBin, 'build', '--logLevel', 'warn'], { cwd: WEB_DIR, stdio: 'inherit' });
    child.on('exit', resolve);
    child.on('error', () => resolve(null));
  });
  if (code !== 0) log('dashboard build failed; /dashboard will say how to build it', { code });
}

/**
 * `tasklane start`: Postgres (embedded unless DATABASE_URL is set), migrations, one API process and
 * N worker processes, restarted if they crash. Ctrl-C stops the services gracefully, then Postgres.
 */
export async function runStart(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { workers: { type: 'string', default: '1' } } });
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) {
    console.error(`tasklane start: --workers must be a whole number from 0 to 64, got "${values.workers}"`);
    return 4;
  }
  // The services run from this repository's sources; an installed CLI has neither them nor tsx.
  if (!existsSync(SERVICES.api)) {
    console.error('tasklane start: run it from a clone of the Tasklane repository (`pnpm start`); an installed CLI submits, watches, migrates and manages keys');
    return 4;
  }
  const tsx = import.meta.resolve('tsx');
  const config = loadConfig();
  const database = await resolveDatabase(config);
  if (database.embedded) log('embedded postgres started', { port: database.embedded.port, dataDir: database.embedded.dataDir });
  await migrateToLatest(database.url);
  await buildDashboardIfMissing();

  const env = { ...process.env, DATABASE_URL: database.url };
  const services: Supervised[] = [
    { name: 'api', script: SERVICES.api, restartDelayMs: 500 },
    ...Array.from({ length: workers }, (_, i) => ({ name: `worker-${i + 1}`, script: SERVICES.worker, restartDelayMs: 500 })),
  ];
  let stopping = false;

  const launch = (service: Supervised) => {
    const child = spawn(process.execPath, ['--import', tsx, service.script], { env, stdio: 'inherit' });
    service.child = child;
    const startedAt = Date.now();
    child.on('exit', (code, signal) => {
      service.child = undefined;
      if (stopping) return;
      // A service that ran a while before failing gets a quick restart; one that keeps failing backs off.
      service.restartDelayMs = Date.now() - startedAt > 30_000 ? 500 : Math.min(service.restartDelayMs * 2, MAX_RESTART_DELAY_MS);
      log('service exited; restarting', { name: service.name, code, signal, inMs: service.restartDelayMs });
      setTimeout(() => !stopping && launch(service), service.restartDelayMs);
    });
  };
  services.forEach(launch);
  log('tasklane started', { url: `http://localhost:${config.port}`, graphql: `http://localhost:${config.port}/graphql`, dashboard: `http://localhost:${config.port}/dashboard/`, workers });

  await new Promise<void>((resolve) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      log('stopping');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

  await Promise.all(
    services.map(
      (service) =>
        new Promise<void>((resolve) => {
          const child = service.child;
          if (!child || child.exitCode !== null) return resolve();
          const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          child.once('exit', () => {
            clearTimeout(killer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  await database.embedded?.stop();
  log('stopped');
  return 0;
}

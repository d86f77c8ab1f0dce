import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '@tasklane/core';
import { migrateToLatest, resolveDatabase, type ResolvedDatabase } from '@tasklane/db';
import { createLogger, type Logger } from '@tasklane/log';
import { portProblem } from '../start/port-check.ts';
import { SupervisedService, type ServiceMessage } from '../start/supervised-service.ts';

// The launcher starts the services as processes, as a deployment would: it imports nothing from them.
const SERVICES = {
  api: fileURLToPath(new URL('../../../../services/api/src/main.ts', import.meta.url)),
  worker: fileURLToPath(new URL('../../../../services/worker/src/main.ts', import.meta.url)),
} as const;
const WEB_DIR = fileURLToPath(new URL('../../../../services/web/', import.meta.url));
/** SIGHUP: the terminal went away. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * The API serves the dashboard from services/web/dist, which is not committed: build it on the
 * first start (about a second). A failed build is not fatal; /dashboard then says how to build it.
 */
async function buildDashboardIfMissing(log: Logger): Promise<void> {
  if (process.env['TASKLANE_DASHBOARD_DIR'] || existsSync(join(WEB_DIR, 'dist', 'index.html'))) return;
  let viteBin: string;
  try {
    // vite is a devDependency of services/web; its bin is not in its exports, so go through package.json.
    const manifest = createRequire(join(WEB_DIR, 'package.json')).resolve('vite/package.json');
    const bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { vite: string } }).bin.vite;
    viteBin = join(dirname(manifest), bin);
  } catch {
    log.warn('dashboard not built and vite is not installed; /dashboard will say how to build it');
    return;
  }
  log.info({ dir: WEB_DIR }, 'building the dashboard');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [viteBin, 'build', '--logLevel', 'warn'], { cwd: WEB_DIR, stdio: 'inherit' });
    child.on('exit', resolve);
    child.on('error', () => resolve(null));
  });
  if (code !== 0) log.warn({ code }, 'dashboard build failed; /dashboard will say how to build it');
}

/**
 * `tasklane start`: Postgres (embedded unless DATABASE_URL is set), migrations, one API process and
 * N worker processes, restarted if they crash. A signal (Ctrl-C, SIGTERM to the launcher or its
 * process group) stops them in order: workers stop claiming and finish or release their tasks,
 * then the API closes, then Postgres stops. A second signal hurries it; a third kills.
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
  const log = createLogger({ service: 'launcher', level: config.logLevel, format: config.logFormat });
  const stopper = new Stopper(log);

  const taken = await portProblem(config.host, config.port);
  if (taken) {
    log.error({ port: config.port, host: config.host }, taken);
    return 1;
  }
  const database = await resolveDatabase(config, {
    servicePort: config.port,
    onNotice: (line) => log.info(line),
    onLog: (line) => log.debug({ output: line }, 'postgres'),
  });
  try {
    if (database.embedded) {
      const { port, dataDir, note } = database.embedded;
      log.info({ port, dataDir, ...(note ? { why: note } : {}) }, 'embedded postgres started');
    }
    await migrateToLatest(database.url);
    await buildDashboardIfMissing(log);
    // Stopped while starting: nothing but Postgres to stop.
    if (stopper.signalled) return await stopper.finish(database, [], [], 0);
  } catch (error) {
    await database.embedded?.stop();
    throw error;
  }

  const env = { ...process.env, DATABASE_URL: database.url };
  let exitCode = 0;
  // Workers get their grace and some seconds to write; the API closes its sockets within seconds.
  const workerStopMs = (config.shutdownGraceSeconds + 15) * 1000;
  const api = new SupervisedService('api', SERVICES.api, tsx, env, log, 30_000, (message: ServiceMessage) => {
    if (message.type === 'listening') {
      if (stopper.started) return;
      stopper.started = true;
      const base = `http://localhost:${message.port ?? config.port}`;
      log.info({ url: base, graphql: `${base}/graphql`, dashboard: `${base}/dashboard/`, workers }, 'tasklane started');
    } else if (message.type === 'listen-failed') {
      // The one line a taken port gets; everything else then stops.
      log.error({ port: config.port, host: config.host }, message.reason ?? `cannot listen on port ${config.port}`);
      exitCode = 1;
      stopper.stop('the API cannot listen');
    }
  });
  const workerServices = Array.from({ length: workers }, (_, i) => new SupervisedService(`worker-${i + 1}`, SERVICES.worker, tsx, env, log, workerStopMs));
  api.start();
  workerServices.forEach((worker) => worker.start());
  await stopper.requested;
  return stopper.finish(database, workerServices, [api], exitCode);
}

/** Turns signals into one ordered stop; counts them, so that a second Ctrl-C hurries it. */
class Stopper {
  started = false;
  signalled = false;
  readonly requested: Promise<void>;
  private resolve!: () => void;
  private count = 0;
  private hurry: () => void = () => {};
  private kill: () => void = () => {};

  constructor(private readonly log: Logger) {
    this.requested = new Promise((resolve) => (this.resolve = resolve));
    for (const signal of STOP_SIGNALS) process.on(signal, () => this.stop(signal));
    // `pnpm start` stopped alone (SIGTERM to pnpm) leaves the launcher behind with a new parent:
    // treat that as a stop too, rather than run on unseen.
    const parent = process.ppid;
    setInterval(() => process.ppid !== parent && this.stop('parent process gone'), 1000).unref();
  }

  stop(reason: string): void {
    this.count++;
    this.signalled = true;
    if (this.count === 1) {
      this.log.info({ reason }, 'stopping: workers finish or release their tasks, then the API, then Postgres (Ctrl-C again to hurry)');
      this.resolve();
    } else if (this.count === 2) {
      this.log.warn({ reason }, 'forcing a fast stop: running tasks are released now (Ctrl-C again to kill)');
      this.hurry();
    } else {
      this.log.error({ reason }, 'killing every process now; running tasks wait for their lease to expire');
      this.kill();
    }
  }

  /** The order of the stop: workers, API, Postgres. */
  async finish(database: ResolvedDatabase, workers: SupervisedService[], apis: SupervisedService[], exitCode: number): Promise<number> {
    const all = [...workers, ...apis];
    this.hurry = () => all.forEach((service) => service.hurry());
    this.kill = () => {
      all.forEach((service) => service.kill());
      process.exit(130);
    };
    if (this.count >= 2) this.hurry();
    await Promise.all(workers.map((worker) => worker.stop()));
    await Promise.all(apis.map((api) => api.stop()));
    await database.embedded?.stop();
    this.log.info('stopped');
    return exitCode;
  }
}

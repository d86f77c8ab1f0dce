import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, chmodSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './embedded-postgres.ts';

/** Where Debian's `pgbouncer` package puts the binary, then PATH. */
export function findPgBouncer(): string | undefined {
  for (const candidate of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer']) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  const which = spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found !== '' ? found : undefined;
}

export interface PgBouncerOptions {
  /** The Postgres behind it: host, port, user and password are taken from here. */
  upstreamUrl: string;
  /** @default 'transaction' */
  poolMode?: 'transaction' | 'session';
  /**
   * Server connections per database and user. Small numbers make clients share server
   * connections all the time, so what depends on luck in production happens at once. @default 2
   */
  poolSize?: number;
}

export interface PgBouncer {
  port: number;
  version: string;
  /** `upstreamUrl` with PgBouncer's host and port: the same database, through the pooler. */
  url(databaseUrl: string): string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts PgBouncer on a free loopback port with its own config and auth file in a temporary
 * folder, in front of `upstreamUrl`'s server. Clients are trusted (loopback, test only); PgBouncer
 * logs in to Postgres with the upstream URL's user and password, which works for trust and for
 * SCRAM (the embedded cluster's) alike. As root it runs as the `postgres` OS user, since it
 * refuses to run as root.
 */
export async function startPgBouncer({ upstreamUrl, poolMode = 'transaction', poolSize = 2 }: PgBouncerOptions): Promise<PgBouncer> {
  const binary = findPgBouncer();
  if (!binary) throw new Error('pgbouncer not found (Debian: apt-get install pgbouncer)');
  const upstream = new URL(upstreamUrl);
  const user = decodeURIComponent(upstream.username || 'postgres');
  const password = decodeURIComponent(upstream.password);
  const dir = await mkdtemp(path.join(tmpdir(), 'tasklane-pgbouncer-'));
  // The postgres OS user must read what root wrote.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;
  const server = [`host=${upstream.hostname}`, `port=${upstream.port || '5432'}`, `user=${quote(user)}`, ...(password ? [`password=${quote(password)}`] : [])];
  const ini = [
    '[databases]',
    `* = ${server.join(' ')}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${path.join(dir, 'users.txt')}`,
    `pool_mode = ${poolMode}`,
    `default_pool_size = ${poolSize}`,
    'max_client_conn = 500',
    'ignore_startup_parameters = extra_float_digits,options',
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'pgbouncer.ini'), ini, { mode: 0o644 });
  writeFileSync(path.join(dir, 'users.txt'), `"${user.replace(/"/g, '""')}" ""\n`, { mode: 0o644 });
  const asRoot = process.getuid?.() === 0;
  const child = spawn(binary, [...(asRoot ? ['-u', 'postgres'] : []), path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = (databaseUrl: string) => {
    const through = new URL(databaseUrl);
    through.hostname = '127.0.0.1';
    through.port = String(port);
    through.password = '';
    return through.toString();
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };

  // Ready once a query goes through it.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}:\n${output.slice(-2000)}`);
    const client = new pg.Client({ connectionString: url(upstreamUrl) });
    const ok = await client.connect().then(
      () => client.query('select 1').then(() => true, () => false),
      () => false,
    );
    await client.end().catch(() => {});
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`pgbouncer on port ${port} did not answer within 30 s:\n${output.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const version = /PgBouncer (\d+\.\d+\.\d+)/.exec(output)?.[1] ?? 'unknown';
  return { port, version, url, output: () => output, stop };
}

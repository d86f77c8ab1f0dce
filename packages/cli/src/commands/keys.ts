import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KIND_PATTERN, loadConfig } from '@tasklane/core';
import { createPool, resolveDatabase } from '@tasklane/db';
import { ApiKeyStore, type ApiKeyInfo } from '@tasklane/db/limits';

const USAGE = `Usage: tasklane keys <create|list|revoke> [options]

  create --owner <name> [--admin] [--name <label>] [--max-concurrent <n>]
                  Create a key and print it once. Without --admin the key sees only its owner's
                  tasks; an admin key sees every owner's. --max-concurrent caps how many of the
                  owner's tasks run at once, over every kind, instead of OWNER_MAX_CONCURRENT.
  create --worker [--kinds video,image] [--name <label>]
                  Create a worker key: it may only claim and run tasks of the listed kinds (any
                  kind without --kinds) through the HTTP worker protocol, and nothing else.
  list [--json]   Every key: id, owner, admin, name, created, last used, revoked (never secrets)
  revoke <id>     Revoke a key; API servers refuse it within a few seconds

Works on DATABASE_URL, or the embedded database when it is not set (as \`tasklane migrate\`).`;

/** `keys` exits 2 on bad usage, as `tasklane migrate` does on a bad setting. */
const EXIT_USAGE = 2;

/** Owners are labels stored with tasks: short and printable, so logs and lists stay readable. */
const OWNER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/;
const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;

class KeysUsageError extends Error {}

const HELP = { help: { type: 'boolean', short: 'h', default: false } } as const;

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...HELP, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new KeysUsageError((error as Error).message.split('\n')[0]!);
  }
}

function time(date: Date | null): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}

function table(keys: ApiKeyInfo[]): string {
  const header = ['ID', 'OWNER', 'ROLE', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'];
  const rows = keys.map((k) => [k.id, k.owner, role(k), k.name ?? '-', time(k.createdAt), time(k.lastUsedAt), time(k.revokedAt)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function role(k: ApiKeyInfo): string {
  if (k.worker) return `worker (${k.kinds ? k.kinds.join(',') : 'any kind'})`;
  return k.admin ? 'admin' : 'owner';
}

function jsonKey(k: ApiKeyInfo) {
  return { id: k.id, owner: k.owner, admin: k.admin, worker: k.worker, kinds: k.kinds, name: k.name, max_concurrent: k.maxConcurrent, created_at: time(k.createdAt), last_used_at: k.lastUsedAt && time(k.lastUsedAt), revoked_at: k.revokedAt && time(k.revokedAt) };
}

/** Opens the database as `tasklane migrate` does, runs `work`, and closes everything. */
async function withStore<T>(work: (store: ApiKeyStore) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await resolveDatabase(config);
  const pool = createPool({ connectionString: database.url, max: 1, applicationName: 'tasklane-cli' });
  try {
    return await work(new ApiKeyStore(pool));
  } catch (error) {
    // undefined_table: the schema predates API keys.
    if ((error as { code?: string }).code === '42P01') throw new Error('the database has no API key table yet: run `tasklane migrate` first');
    throw error;
  } finally {
    await pool.end();
    await database.embedded?.stop();
  }
}

/** What a worker key's owner column holds: worker keys act for no owner, but the column is a label in `keys list`. */
const WORKER_KEY_OWNER = 'worker';

/** `--kinds video,image`: each a kind name, no repeats. */
function parseKinds(text: string): string[] {
  const kinds = text.split(',').map((k) => k.trim());
  for (const kind of kinds) {
    if (!KIND_PATTERN.test(kind)) throw new KeysUsageError(`--kinds: "${kind}" is not a kind name (lowercase letter, then up to 31 lowercase letters, digits or _), e.g. --kinds video,image`);
  }
  return [...new Set(kinds)];
}

async function createWorkerKey(values: { owner?: string | boolean | undefined; admin?: string | boolean | undefined; kinds?: string | boolean | undefined; name?: string | boolean | undefined }): Promise<number> {
  if (values.admin === true) throw new KeysUsageError('--worker and --admin do not go together: a worker key sees no tasks, it only runs them');
  if (values.owner !== undefined) throw new KeysUsageError('--worker keys have no --owner: they run tasks of every owner (limit them with --kinds)');
  const kinds = typeof values.kinds === 'string' ? parseKinds(values.kinds) : null;
  const name = values.name;
  if (typeof name === 'string' && (name.trim() === '' || name.length > 200)) throw new KeysUsageError('--name must be 1 to 200 characters');
  const { key, info } = await withStore((store) => store.create({ owner: WORKER_KEY_OWNER, worker: true, kinds, name: typeof name === 'string' ? name : undefined }));
  console.log(key);
  console.error(`Created worker key ${info.id} for ${kinds ? `kinds ${kinds.join(', ')}` : 'any kind'}. This is the only time the key is shown: store it now.`);
  return 0;
}

async function create(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    owner: { type: 'string' },
    admin: { type: 'boolean', default: false },
    worker: { type: 'boolean', default: false },
    kinds: { type: 'string' },
    name: { type: 'string' },
    'max-concurrent': { type: 'string' },
  } as const);
  if (values.help) return help();
  if (positionals.length > 0) throw new KeysUsageError(`unexpected argument "${positionals[0]}"`);
  if (values.worker === true) return createWorkerKey(values);
  if (values.kinds !== undefined) throw new KeysUsageError('--kinds applies to worker keys only: add --worker');
  const owner = values.owner;
  if (typeof owner !== 'string') throw new KeysUsageError('create needs --owner <name> (the owner whose tasks the key may see) or --worker');
  if (!OWNER_PATTERN.test(owner)) {
    throw new KeysUsageError(`--owner must be 1 to 128 letters, digits or . _ @ : - (starting with a letter or digit), got "${owner}"`);
  }
  const name = values.name;
  if (typeof name === 'string' && (name.trim() === '' || name.length > 200)) throw new KeysUsageError('--name must be 1 to 200 characters');
  const admin = values.admin === true;
  const maxConcurrent = maxConcurrentOption(values['max-concurrent']);
  const { key, info } = await withStore((store) => store.create({ owner, admin, name: typeof name === 'string' ? name : undefined, maxConcurrent }));
  console.log(key);
  const cap = maxConcurrent === undefined ? '' : ` (at most ${maxConcurrent} of its tasks running at once)`;
  console.error(`Created ${admin ? 'admin ' : ''}key ${info.id} for owner "${owner}"${cap}. This is the only time the key is shown: store it now.`);
  return 0;
}

/** Bounds as the caps' settings (`OWNER_MAX_CONCURRENT`) have them. */
const MAX_CAP = 1_000_000;

function maxConcurrentOption(raw: string | boolean | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || value < 1 || value > MAX_CAP) {
    throw new KeysUsageError(`--max-concurrent must be a whole number from 1 to ${MAX_CAP}, got "${String(raw)}"`);
  }
  return value;
}

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean', default: false } } as const);
  if (values.help) return help();
  if (positionals.length > 0) throw new KeysUsageError(`unexpected argument "${positionals[0]}"`);
  const keys = await withStore((store) => store.list());
  if (values.json) console.log(JSON.stringify(keys.map(jsonKey), null, 2));
  else console.log(keys.length ? table(keys) : 'No API keys yet: create one with `tasklane keys create --owner <name>`');
  return 0;
}

async function revoke(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return help();
  if (positionals.length !== 1) throw new KeysUsageError('revoke needs exactly one <id> (see `tasklane keys list`)');
  const id = positionals[0]!;
  if (!KEY_ID_PATTERN.test(id)) throw new KeysUsageError(`"${id}" is not a key id: ids are the 16 hex characters after "tl_" (see \`tasklane keys list\`)`);
  const info = await withStore((store) => store.revoke(id));
  if (!info) {
    console.error(`tasklane keys: no key with id ${id}`);
    return 1;
  }
  console.log(`Revoked key ${id} (owner "${info.owner}") at ${time(info.revokedAt)}`);
  return 0;
}

function help(): number {
  console.log(USAGE);
  return 0;
}

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<number>> = { create, list, revoke };

/** `tasklane keys create|list|revoke`: manages API keys directly in the database. */
export async function runKeys(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') return help();
  const run = SUBCOMMANDS[sub];
  try {
    if (!run) throw new KeysUsageError(`unknown subcommand "${sub}"`);
    return await run(rest);
  } catch (error) {
    if (!(error instanceof KeysUsageError)) throw error;
    console.error(`tasklane keys: ${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
}

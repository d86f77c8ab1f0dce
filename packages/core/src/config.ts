import { ConfigError } from './errors.ts';
import { readHardening, type HardeningSettings } from './hardening-config.ts';
import { readWebhookSettings, type WebhookSettings } from './webhook-config.ts';
import { isValidKind } from './ids.ts';
import { OTLP_PROTOCOLS, type OtlpProtocol } from './tracing.ts';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** `auto`: readable lines on a terminal, JSON lines otherwise. */
export type LogFormat = 'auto' | 'pretty' | 'json';
export type StorageBackend = 'postgres' | 'embedded' | 'memory';
export type EventBusKind = 'postgres' | 'redis';
export type RateLimitStoreKind = 'postgres' | 'redis';
/**
 * Whether the hot statements (claim, heartbeat, complete, read by id …) are prepared once per
 * connection under a name. `auto`: named until the database (a transaction pooler that cannot
 * keep them) answers 42P05 or 26000, then unnamed for the rest of the process.
 */
export type PreparedStatementsMode = 'on' | 'off' | 'auto';

/** Per-owner limits, shared by every API process; `0` means unlimited. */
export interface RateLimitSettings {
  /** Submissions per owner per minute (a batch of n counts n). */
  submissionsPerMinute: number;
  /** Subscriptions (GraphQL, SSE, WebSocket) one owner may hold open at once. */
  subscriptions: number;
  /** Where the counters live: the task database, or Redis (`REDIS_URL`). @default 'postgres' */
  store: RateLimitStoreKind;
  /**
   * How long a held subscription slot counts after its process last renewed it: the bound on how
   * long a crashed replica's subscriptions keep counting. @default 30
   */
  slotTtlSeconds: number;
}

/**
 * Defaults that apply only with `AUTH=on`: with auth off every client is the same owner, so a
 * limit would throttle the whole quick start (and the benchmarks) as one client.
 */
export const DEFAULT_RATE_LIMITS = { submissionsPerMinute: 600, subscriptions: 100 } as const;

/** Cluster-wide concurrency caps: `total` over every kind, and one per named kind. */
export interface ConcurrencyCaps {
  total: number;
  perKind: Record<string, number>;
  /**
   * Tasks of one owner running at once, over every kind (`OWNER_MAX_CONCURRENT`); an API key
   * created with `--max-concurrent` sets its owner's instead. @default no cap
   */
  perOwner?: number | undefined;
}

export interface Config {
  databaseUrl: string | undefined;
  storageBackend: StorageBackend;
  port: number;
  host: string;
  dataDir: string;
  /** As root, where the embedded Postgres's binaries and cluster go when the postgres user cannot reach the project. */
  sharedDir: string | undefined;
  workerConcurrency: number;
  leaseSeconds: number;
  /** How long a stopping worker lets running tasks finish before it releases them to pending. */
  shutdownGraceSeconds: number;
  /**
   * How often the API shows life on an idle subscription (`KEEPALIVE_SECONDS`): a ping on each
   * WebSocket (GraphQL and `/ws/tasks`), whose peer is let go when it has not answered by the
   * next, and a comment on each SSE stream. Keeps proxies from closing idle subscriptions, and
   * frees the subscription slots of clients that vanished without closing. @default 15
   */
  keepAliveSeconds: number;
  /** How traces are encoded when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (see {@link otlpProtocol}). */
  otlpProtocol: OtlpProtocol;
  logLevel: LogLevel;
  logFormat: LogFormat;
  taskRetentionHours: number;
  caps: ConcurrencyCaps;
  /** Seconds a task of a kind may run before its handler is aborted (`<KIND>_TIMEOUT_SECONDS`); kinds not named have no limit. */
  taskTimeouts: Record<string, number>;
  eventBus: EventBusKind;
  redisUrl: string | undefined;
  auth: 'on' | 'off';
  rateLimits: RateLimitSettings;
  /** Connections in each process's pool. */
  databasePoolSize: number;
  /**
   * Where to LISTEN, when `DATABASE_URL` points at a transaction-mode pooler (PgBouncer) that
   * cannot hold a LISTEN: a direct or session-mode URL. @default databaseUrl
   */
  listenDatabaseUrl: string | undefined;
  /** Where to run migrations (they hold a session advisory lock), for the same reason. @default databaseUrl */
  migrationDatabaseUrl: string | undefined;
  /** Named prepared statements: `on`, `off` (every query unnamed, for any pooler), `auto`. @default 'auto' */
  databasePreparedStatements: PreparedStatementsMode;
  /** Port of the worker process's `/healthz`, `/readyz` and `/metrics`; undefined: none. */
  workerHealthPort: number | undefined;
  /** Body, input and GraphQL document limits, introspection and allowed browser origins. */
  hardening: HardeningSettings;
  /** Where webhooks may go, how they are retried, and whether this process sends them. */
  webhooks: WebhookSettings;
  /** Which kinds a submission may have besides those workers have registered (`TASK_KINDS`). */
  taskKinds: TaskKindsSetting;
}

/** `TASK_KINDS`: kinds declared before their workers are deployed, or `*` for any kind. */
export interface TaskKindsSetting {
  declared: string[];
  /** `TASK_KINDS=*`: every well-formed kind is accepted, registered or not. */
  any: boolean;
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, raw, `a whole number from ${min} to ${max}`);
  }
  return value;
}

function positiveNumber(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(name, raw, 'a number greater than 0');
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase();
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(name, raw, `one of ${allowed.join(', ')}`);
  return value as T;
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, raw, `a URL such as ${protocols[0]}//host:port/...`);
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, raw, `a URL starting with ${protocols.join(' or ')}//`);
  return raw;
}

const CAP_SUFFIX = '_MAX_CONCURRENT';
const TIMEOUT_SUFFIX = '_TIMEOUT_SECONDS';
/** A task time limit's ceiling: a week, well inside what a timer can wait. */
export const MAX_TASK_TIMEOUT_SECONDS = 604_800;

/** The setting that caps every kind together. */
export const TOTAL_CAP_SETTING = 'MAX_CONCURRENT_TASKS';
/** The setting that caps each owner's running tasks (over every kind). */
export const OWNER_CAP_SETTING = 'OWNER_MAX_CONCURRENT';

/** The setting that caps one kind: `VIDEO_MAX_CONCURRENT` for `video`. */
export function kindCapSetting(kind: string): string {
  return `${kind.toUpperCase()}${CAP_SUFFIX}`;
}
const MAX_CAP = 1_000_000;

/** The `<KIND><suffix>` variables of the environment, each with the kind it names. */
function perKindVariables(env: Env, suffix: string): { name: string; kind: string }[] {
  const found: { name: string; kind: string }[] = [];
  for (const name of Object.keys(env)) {
    if (!name.endsWith(suffix) || name === TOTAL_CAP_SETTING) continue;
    const kind = name.slice(0, -suffix.length).toLowerCase();
    if (!/^[a-z][a-z0-9_]{0,31}$/.test(kind)) {
      throw new ConfigError(name, env[name] ?? '', `a kind name of letters, digits and _ before ${suffix}`);
    }
    found.push({ name, kind });
  }
  return found;
}

/** `VIDEO_MAX_CONCURRENT`, `IMAGE_MAX_CONCURRENT` and any `<KIND>_MAX_CONCURRENT`. */
function readCaps(env: Env): ConcurrencyCaps {
  const perKind: Record<string, number> = { video: 2, image: 3 };
  for (const { name, kind } of perKindVariables(env, CAP_SUFFIX)) {
    // Not a kind named "owner".
    if (name === OWNER_CAP_SETTING) continue;
    perKind[kind] = integer(env, name, perKind[kind] ?? MAX_CAP, 1, MAX_CAP);
  }
  const perOwner = read(env, OWNER_CAP_SETTING) === undefined ? undefined : integer(env, OWNER_CAP_SETTING, MAX_CAP, 1, MAX_CAP);
  return { total: integer(env, TOTAL_CAP_SETTING, 10, 1, MAX_CAP), perKind, perOwner };
}

/** `<KIND>_TIMEOUT_SECONDS`: how long one attempt of that kind may run. */
function readTimeouts(env: Env): Record<string, number> {
  const timeouts: Record<string, number> = {};
  for (const { name, kind } of perKindVariables(env, TIMEOUT_SUFFIX)) {
    const seconds = positiveNumber(env, name, 0);
    if (seconds > MAX_TASK_TIMEOUT_SECONDS) throw new ConfigError(name, env[name] ?? '', `a number of seconds up to ${MAX_TASK_TIMEOUT_SECONDS} (7 days)`);
    timeouts[kind] = seconds;
  }
  return timeouts;
}

function readTaskKinds(env: Env): TaskKindsSetting {
  const raw = read(env, 'TASK_KINDS');
  if (raw === undefined) return { declared: [], any: false };
  if (raw === '*') return { declared: [], any: true };
  const declared = raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (declared.some((kind) => !isValidKind(kind))) {
    throw new ConfigError('TASK_KINDS', raw, 'a comma-separated list of kinds (1-32 lowercase letters, digits or _, starting with a letter) such as video,image, or * for any kind');
  }
  return { declared: [...new Set(declared)], any: false };
}

const MAX_RATE_LIMIT = 1_000_000;

function readRateLimits(env: Env, auth: 'on' | 'off', redisUrl: string | undefined): RateLimitSettings {
  const on = auth === 'on';
  const store = oneOf<RateLimitStoreKind>(env, 'RATE_LIMIT_STORE', ['postgres', 'redis'], 'postgres');
  if (store === 'redis' && !redisUrl) throw new ConfigError('REDIS_URL', '', 'a redis:// URL when RATE_LIMIT_STORE=redis');
  return {
    submissionsPerMinute: integer(env, 'RATE_LIMIT_SUBMISSIONS_PER_MINUTE', on ? DEFAULT_RATE_LIMITS.submissionsPerMinute : 0, 0, MAX_RATE_LIMIT),
    subscriptions: integer(env, 'RATE_LIMIT_SUBSCRIPTIONS', on ? DEFAULT_RATE_LIMITS.subscriptions : 0, 0, MAX_RATE_LIMIT),
    store,
    slotTtlSeconds: integer(env, 'RATE_LIMIT_SLOT_TTL_SECONDS', 30, 3, 3600),
  };
}

function storageBackend(env: Env, databaseUrl: string | undefined): StorageBackend {
  const raw = read(env, 'TASK_STORAGE_BACKEND');
  if (raw?.toLowerCase() === 'redis') {
    throw new ConfigError(
      'TASK_STORAGE_BACKEND',
      raw,
      'postgres, embedded or memory (Redis serves as the event bus only: set EVENT_BUS=redis and REDIS_URL)',
    );
  }
  const backend = oneOf<StorageBackend>(env, 'TASK_STORAGE_BACKEND', ['postgres', 'embedded', 'memory'], databaseUrl ? 'postgres' : 'embedded');
  if (backend === 'postgres' && !databaseUrl) {
    throw new ConfigError('DATABASE_URL', '', 'a postgres:// URL when TASK_STORAGE_BACKEND=postgres');
  }
  return backend;
}

/**
 * Reads and validates the configuration. Throws a `ConfigError` whose message is one line naming
 * the variable, its value and what is allowed; processes print it and exit.
 */
/**
 * The protocol the standard variables ask traces to go in: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`,
 * else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`, the OpenTelemetry specification's
 * default. `grpc` is refused by name: the exporters speak OTLP over HTTP only, and an endpoint on
 * a collector's gRPC port would take none of it.
 */
export function otlpProtocol(env: Env = process.env): OtlpProtocol {
  const name = read(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') === undefined ? 'OTEL_EXPORTER_OTLP_PROTOCOL' : 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL';
  const raw = read(env, name);
  if (raw?.toLowerCase() === 'grpc') {
    throw new ConfigError(name, raw, `one of ${OTLP_PROTOCOLS.join(', ')} (gRPC is not supported: point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's OTLP/HTTP port, 4318)`);
  }
  return oneOf<OtlpProtocol>(env, name, OTLP_PROTOCOLS, OTLP_PROTOCOLS[0]);
}

export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const eventBus = oneOf<EventBusKind>(env, 'EVENT_BUS', ['postgres', 'redis'], 'postgres');
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  if (eventBus === 'redis' && !redisUrl) throw new ConfigError('REDIS_URL', '', 'a redis:// URL when EVENT_BUS=redis');
  const auth = oneOf(env, 'AUTH', ['on', 'off'], 'off');
  const host = read(env, 'HOST') ?? '127.0.0.1';
  return {
    databaseUrl,
    storageBackend: storageBackend(env, databaseUrl),
    port: integer(env, 'PORT', 8000, 0, 65535),
    host,
    dataDir: read(env, 'TASKLANE_DATA_DIR') ?? '.tasklane',
    sharedDir: read(env, 'TASKLANE_SHARED_DIR'),
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 10, 1, 10_000),
    leaseSeconds: integer(env, 'LEASE_SECONDS', 30, 2, 3600),
    shutdownGraceSeconds: integer(env, 'SHUTDOWN_GRACE_SECONDS', 20, 0, 3600),
    keepAliveSeconds: integer(env, 'KEEPALIVE_SECONDS', 15, 1, 3600),
    otlpProtocol: otlpProtocol(env),
    logLevel: oneOf<LogLevel>(env, 'LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'silent'], 'info'),
    logFormat: oneOf<LogFormat>(env, 'LOG_FORMAT', ['auto', 'pretty', 'json'], 'auto'),
    taskRetentionHours: positiveNumber(env, 'TASK_RETENTION_HOURS', 24),
    caps: readCaps(env),
    taskTimeouts: readTimeouts(env),
    eventBus,
    redisUrl,
    auth,
    rateLimits: readRateLimits(env, auth, redisUrl),
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    listenDatabaseUrl: url(env, 'LISTEN_DATABASE_URL', ['postgres:', 'postgresql:']) ?? databaseUrl,
    migrationDatabaseUrl: url(env, 'MIGRATION_DATABASE_URL', ['postgres:', 'postgresql:']) ?? databaseUrl,
    databasePreparedStatements: oneOf<PreparedStatementsMode>(env, 'DATABASE_PREPARED_STATEMENTS', ['auto', 'on', 'off'], 'auto'),
    workerHealthPort: read(env, 'WORKER_HEALTH_PORT') === undefined ? undefined : integer(env, 'WORKER_HEALTH_PORT', 0, 0, 65535),
    hardening: readHardening(env, oneOf(env, 'AUTH', ['on', 'off'], 'off')),
    webhooks: readWebhookSettings(env, auth, host),
    taskKinds: readTaskKinds(env),
  };
}

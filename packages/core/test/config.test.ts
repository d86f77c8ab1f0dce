import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.ts';

describe('loadConfig', () => {
  it('uses the seed defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8000);
    expect(config.taskRetentionHours).toBe(24);
    expect(config.caps).toEqual({ total: 10, perKind: { video: 2, image: 3 } });
    expect(config.storageBackend).toBe('embedded');
    expect(config.dataDir).toBe('.tasklane');
    expect(config.auth).toBe('off');
  });

  it('reads caps for any kind from <KIND>_MAX_CONCURRENT', () => {
    const config = loadConfig({ MAX_CONCURRENT_TASKS: '50', VIDEO_MAX_CONCURRENT: '4', AUDIO_MAX_CONCURRENT: '7' });
    expect(config.caps).toEqual({ total: 50, perKind: { video: 4, image: 3, audio: 7 } });
  });

  it('reads OWNER_MAX_CONCURRENT as the per-owner cap, not as a cap of a kind named owner', () => {
    const config = loadConfig({ OWNER_MAX_CONCURRENT: '3' });
    expect(config.caps.perOwner).toBe(3);
    expect(config.caps.perKind).toEqual({ video: 2, image: 3 });
    expect(loadConfig({}).caps.perOwner).toBeUndefined();
    expect(() => loadConfig({ OWNER_MAX_CONCURRENT: 'none' })).toThrow('Invalid OWNER_MAX_CONCURRENT="none": expected a whole number from 1 to 1000000');
  });

  it('uses postgres storage when DATABASE_URL is set', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db' }).storageBackend).toBe('postgres');
  });

  it.each([
    [{ PORT: 'eighty' }, 'Invalid PORT="eighty": expected a whole number from 0 to 65535'],
    [{ PORT: '70000' }, 'Invalid PORT="70000": expected a whole number from 0 to 65535'],
    [{ VIDEO_MAX_CONCURRENT: '0' }, 'Invalid VIDEO_MAX_CONCURRENT="0": expected a whole number from 1 to 1000000'],
    [{ MAX_CONCURRENT_TASKS: '2.5' }, 'Invalid MAX_CONCURRENT_TASKS="2.5": expected a whole number from 1 to 1000000'],
    [{ TASK_RETENTION_HOURS: '-1' }, 'Invalid TASK_RETENTION_HOURS="-1": expected a number greater than 0'],
    [{ LOG_LEVEL: 'loud' }, 'Invalid LOG_LEVEL="loud": expected one of trace, debug, info, warn, error, silent'],
    [{ DATABASE_URL: 'mysql://x' }, 'Invalid DATABASE_URL="mysql://x": expected a URL starting with postgres: or postgresql://'],
    [{ AUTH: 'maybe' }, 'Invalid AUTH="maybe": expected one of on, off'],
    [{ EVENT_BUS: 'redis' }, 'Invalid REDIS_URL="": expected a redis:// URL when EVENT_BUS=redis'],
    [{ TASK_STORAGE_BACKEND: 'postgres' }, 'Invalid DATABASE_URL="": expected a postgres:// URL when TASK_STORAGE_BACKEND=postgres'],
  ])('refuses %o with one clear line', (env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError('X', '', '').constructor as typeof ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('refuses the Redis storage backend and says Redis is the event bus only', () => {
    expect(() => loadConfig({ TASK_STORAGE_BACKEND: 'redis' })).toThrow(/Redis serves as the event bus only/);
  });
});

describe('pooler overrides', () => {
  it('uses DATABASE_URL for LISTEN and migrations unless a direct URL is given for each', () => {
    const pooled = 'postgres://app@pgbouncer:6432/tasklane';
    const direct = 'postgres://app@postgres:5432/tasklane';
    expect(loadConfig({ DATABASE_URL: pooled })).toMatchObject({ listenDatabaseUrl: pooled, migrationDatabaseUrl: pooled });
    expect(loadConfig({ DATABASE_URL: pooled, LISTEN_DATABASE_URL: direct, MIGRATION_DATABASE_URL: direct })).toMatchObject({
      databaseUrl: pooled,
      listenDatabaseUrl: direct,
      migrationDatabaseUrl: direct,
    });
    expect(() => loadConfig({ DATABASE_URL: pooled, LISTEN_DATABASE_URL: 'mysql://x' })).toThrow(/LISTEN_DATABASE_URL/);
  });
});

describe('task time limits', () => {
  it('reads <KIND>_TIMEOUT_SECONDS per kind, fractions allowed, and no limit for other kinds', () => {
    expect(loadConfig({ THUMBNAIL_TIMEOUT_SECONDS: '90', VIDEO_TIMEOUT_SECONDS: '0.5' }).taskTimeouts).toEqual({ thumbnail: 90, video: 0.5 });
    expect(loadConfig({}).taskTimeouts).toEqual({});
  });

  it('names the variable and what to set when a limit is not a positive number of seconds up to a week', () => {
    expect(() => loadConfig({ THUMBNAIL_TIMEOUT_SECONDS: '0' })).toThrow(/THUMBNAIL_TIMEOUT_SECONDS.*greater than 0/);
    expect(() => loadConfig({ THUMBNAIL_TIMEOUT_SECONDS: 'soon' })).toThrow(/THUMBNAIL_TIMEOUT_SECONDS/);
    expect(() => loadConfig({ THUMBNAIL_TIMEOUT_SECONDS: '604801' })).toThrow(/THUMBNAIL_TIMEOUT_SECONDS.*up to 604800/);
    expect(() => loadConfig({ 'BAD-KIND_TIMEOUT_SECONDS': '5' })).toThrow(/a kind name of letters, digits and _ before _TIMEOUT_SECONDS/);
  });

  it('reads KEEPALIVE_SECONDS as whole seconds from 1, 15 when unset', () => {
    expect(loadConfig({}).keepAliveSeconds).toBe(15);
    expect(loadConfig({ KEEPALIVE_SECONDS: '60' }).keepAliveSeconds).toBe(60);
    expect(() => loadConfig({ KEEPALIVE_SECONDS: '0' })).toThrow(/KEEPALIVE_SECONDS.*a whole number from 1 to 3600/);
    expect(() => loadConfig({ KEEPALIVE_SECONDS: '1.5' })).toThrow(/KEEPALIVE_SECONDS/);
  });

  it('reads the OTLP protocol, protobuf when unset, the traces variable first, and refuses gRPC at start', () => {
    expect(loadConfig({}).otlpProtocol).toBe('http/protobuf');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).otlpProtocol).toBe('http/json');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }).otlpProtocol).toBe('http/protobuf');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(ConfigError);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL="grpc".*gRPC is not supported/);
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '@tasklane/core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  restart?: string;
  deploy?: { replicas?: number; resources?: { limits?: { cpus?: string; memory?: string } } };
}

// `<<` merge keys carry the shared environment and service settings.
const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const tasklane = ['api', 'worker'] as const;

function env(name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(services[name]?.environment ?? {}).map(([k, v]) => [k, String(v)]));
}

/** The variables loadConfig reads, found by watching it read a full environment. */
function variablesLoadConfigReads(sample: Record<string, string>): Set<string> {
  const read = new Set<string>();
  loadConfig(new Proxy(sample, { get: (target, key: string) => (read.add(key), target[key]) }));
  return read;
}

function seconds(duration: string | undefined): number {
  const match = /^(\d+)(ms|s|m)$/.exec(duration ?? '');
  if (!match) return 0;
  const value = Number(match[1]);
  return match[2] === 'ms' ? value / 1000 : match[2] === 'm' ? value * 60 : value;
}

describe('docker-compose.yml', () => {
  it('has Postgres, Redis, 2 API replicas and 3 worker replicas', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'postgres', 'redis', 'worker']);
    expect(services.api?.deploy?.replicas).toBe(2);
    expect(services.worker?.deploy?.replicas).toBe(3);
  });

  it.each(tasklane)('gives the %s only settings that loadConfig accepts', (name) => {
    const vars = env(name);
    const config = loadConfig(vars);
    // Every variable is one Tasklane reads: a misspelt name would be ignored silently.
    const known = variablesLoadConfigReads(vars);
    const unknown = Object.keys(vars).filter((key) => !known.has(key) && !key.endsWith('_MAX_CONCURRENT'));
    expect(unknown).toEqual([]);
    // The URLs name services of this file.
    expect(new URL(config.databaseUrl!).hostname).toBe('postgres');
    if (config.eventBus === 'redis') expect(new URL(config.redisUrl!).hostname).toBe('redis');
    expect(config.storageBackend).toBe('postgres');
    // The pools fit in Postgres's connections.
    expect(config.databasePoolSize).toBeGreaterThan(0);
  });

  it('keeps every pool within max_connections', () => {
    const maxConnections = Number(/max_connections=(\d+)/.exec((services.postgres?.command ?? []).join(' '))?.[1] ?? 100);
    let total = 0;
    for (const name of tasklane) {
      const config = loadConfig(env(name));
      // Each process: its pool, plus one LISTEN connection, plus one while migrating at start.
      total += (services[name]?.deploy?.replicas ?? 1) * (config.databasePoolSize + 2);
    }
    expect(total).toBeLessThan(maxConnections);
  });

  it.each(tasklane)('starts the %s from a file that exists, built from this repository', (name) => {
    const service = services[name]!;
    expect(service.command?.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
    const main = service.command?.[3];
    expect(main).toMatch(new RegExp(`^services/${name}/src/main\\.ts$`));
    expect(existsSync(path.join(ROOT, main!))).toBe(true);
    expect(service.build).toBeDefined();
    expect(existsSync(path.join(ROOT, 'Dockerfile'))).toBe(true);
    expect(service.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(service.restart).toBe('unless-stopped');
    expect(service.deploy?.resources?.limits?.memory).toBeDefined();
  });

  it('publishes the port the API listens on, and checks readiness on it', () => {
    const api = services.api!;
    const config = loadConfig(env('api'));
    expect(config.host).toBe('0.0.0.0');
    for (const mapping of api.ports ?? []) expect(mapping.split(':').at(-1)).toBe(String(config.port));
    expect(api.ports?.length).toBeGreaterThan(0);
    expect(api.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${config.port}/readyz`);
  });

  it('checks worker readiness on the port the worker serves its health on', () => {
    const config = loadConfig(env('worker'));
    expect(config.workerHealthPort).toBeDefined();
    expect(services.worker?.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${config.workerHealthPort}/readyz`);
  });

  it('builds an image whose default command is the API, dropping what only development needs', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    const args = JSON.parse(cmd ?? '[]') as string[];
    expect(args.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
    expect(existsSync(path.join(ROOT, args[3] ?? 'missing'))).toBe(true);
    expect(dockerfile).toMatch(/^USER node$/m);
    // --no-optional would drop esbuild's platform binary, and tsx cannot run without it.
    expect(dockerfile).not.toContain('--no-optional');
  });

  it("gives workers more time to stop than their 20 s grace, so SIGKILL never cuts a release short", () => {
    expect(seconds(services.worker?.stop_grace_period)).toBeGreaterThan(20);
    expect(seconds(services.api?.stop_grace_period)).toBeGreaterThan(2);
  });

  const binary = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  const hasDockerCompose = binary.status === 0;
  if (!hasDockerCompose) console.log('docker-compose config check skipped: the docker-compose binary is not installed (apt-get install docker-compose)');
  it.skipIf(!hasDockerCompose)('is accepted by `docker-compose config`', () => {
    // Throws (and fails the test) with docker-compose's message on an invalid file.
    const out = execFileSync('docker-compose', ['-f', COMPOSE_FILE, 'config', '--services'], { cwd: ROOT, encoding: 'utf8' });
    expect(out.trim().split('\n').sort()).toEqual(['api', 'postgres', 'redis', 'worker']);
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  // `pnpm --filter <package> deploy --prod /app/<dir>`: which package each folder of the image holds.
  const deployed = new Map([...dockerfile.matchAll(/pnpm --filter (\S+) deploy --prod \/app\/(\w+)/g)].map((m) => [m[2]!, m[1]!]));
  const packageDirs = new Map(
    ['packages', 'services'].flatMap((parent) =>
      readdirSync(path.join(ROOT, parent)).flatMap((dir) => {
        const manifest = path.join(ROOT, parent, dir, 'package.json');
        return existsSync(manifest) ? [[(JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name, path.join(parent, dir)] as const] : [];
      }),
    ),
  );

  /** The source file that the image's `<dir>/dist/<file>.js` is compiled from, if the Dockerfile deploys that folder. */
  function sourceOf(imagePath: string): string | undefined {
    const match = /^(\w+)\/dist\/([\w/-]+)\.js$/.exec(imagePath);
    const packageName = match && deployed.get(match[1]!);
    const dir = packageName && packageDirs.get(packageName);
    return dir ? path.join(dir, 'src', `${match[2]}.ts`) : undefined;
  }

  it.each(tasklane)('starts the %s with plain node on a built file of this repository', (name) => {
    const service = services[name]!;
    expect(service.command).toHaveLength(2);
    expect(service.command?.[0]).toBe('node');
    const main = service.command?.[1] ?? '';
    expect(main).toBe(`${name}/dist/main.js`);
    const source = sourceOf(main);
    expect(source).toBe(`services/${name}/src/main.ts`);
    expect(existsSync(path.join(ROOT, source!))).toBe(true);
    expect(service.build).toBeDefined();
    expect(existsSync(path.join(ROOT, 'Dockerfile'))).toBe(true);
    expect(service.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(service.restart).toBe('unless-stopped');
    expect(service.deploy?.resources?.limits?.memory).toBeDefined();
  });

  it('names a CLI in its comments that the image has', () => {
    const cli = /docker compose exec api node (\S+) keys create/.exec(readFileSync(COMPOSE_FILE, 'utf8'))?.[1];
    expect(sourceOf(cli ?? '')).toBe('packages/cli/src/bin.ts');
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

  it('builds an image on the current Node LTS whose default command is the built API, with no tsx or devDependencies', () => {
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    // Node 26 has been the active LTS line since 2026-10-28.
    for (const image of stages) expect(image).toMatch(/^node:26-[a-z]+-slim$/);
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    const args = JSON.parse(cmd ?? '[]') as string[];
    expect(args).toEqual(['node', 'api/dist/main.js']);
    expect(sourceOf(args[1]!)).toBe('services/api/src/main.ts');
    expect(dockerfile).toMatch(/^USER node$/m);
    // The workspace packages' exports default to their sources: the image picks the built files.
    expect(dockerfile).toMatch(/^ENV .*NODE_OPTIONS=--conditions=@tasklane\/dist/m);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).not.toMatch(/tsx|pnpm install/);
    for (const dir of deployed.keys()) expect(dockerfile).toContain(`deploy --prod /app/${dir}`);
    expect([...deployed.keys()].sort()).toEqual(['api', 'cli', 'worker']);
    // Every package a deployed program depends on is compiled before the deploy copies its dist.
    expect(dockerfile).toMatch(/turbo run build --filter=@tasklane\/api --filter=@tasklane\/worker-service --filter=@tasklane\/cli/);
  });

  it('compiles each deployed program to dist from src, as the image paths assume', () => {
    const build = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as { compilerOptions: { rootDir: string; outDir: string } };
    expect(build.compilerOptions.rootDir).toBe('${configDir}/src');
    expect(build.compilerOptions.outDir).toBe('${configDir}/dist');
    for (const name of deployed.values()) {
      const dir = packageDirs.get(name)!;
      const manifest = JSON.parse(readFileSync(path.join(ROOT, dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      expect(manifest.scripts['build']).toBe('tsc -p tsconfig.build.json');
      expect(existsSync(path.join(ROOT, dir, 'tsconfig.build.json'))).toBe(true);
    }
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

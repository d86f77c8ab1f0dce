import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDashboard } from '../src/dashboard-route.ts';

let dir: string;
let app: FastifyInstance;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tasklane-dashboard-'));
  app = Fastify();
  registerDashboard(app, { dir });
});
afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describe('/dashboard', () => {
  it('answers 503 with the build command while the folder holds no build', async () => {
    const response = await app.inject('/dashboard/');
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain('pnpm --filter @tasklane/web build');
  });

  it('serves the built page and its assets once they exist, without a restart', async () => {
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>built</title>');
    await writeFile(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');

    expect((await app.inject('/dashboard')).headers['location']).toBe('/dashboard/');
    const page = await app.inject('/dashboard/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<title>built</title>');
    const script = await app.inject('/dashboard/assets/index-abc.js');
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toContain('immutable');
    expect(script.body).toBe('console.log(1)');
  });

  it('answers 404 for a missing asset and never reads outside the folder', async () => {
    expect((await app.inject('/dashboard/assets/missing.js')).statusCode).toBe(404);
    await writeFile(join(dir, '..', 'tasklane-secret.txt'), 'secret').catch(() => {});
    const escape = await app.inject('/dashboard/..%2Ftasklane-secret.txt');
    expect(escape.body).not.toContain('secret');
    await rm(join(dir, '..', 'tasklane-secret.txt'), { force: true });
  });
});

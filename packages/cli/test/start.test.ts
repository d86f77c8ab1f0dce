import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launch(args: string[], env: Record<string, string | undefined>): Started {
  const cleanEnv = { ...process.env, ...env };
  for (const [key, value] of Object.entries(cleanEnv)) if (value === undefined) delete cleanEnv[key];
  const child = spawn(process.execPath, ['--import', TSX, BIN, ...args], { env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('tasklane start', () => {
  let dataDir: string;
  let database: TestDatabase | undefined;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'tasklane-start-'));
    // With DATABASE_URL (CI's Postgres 15 run) the launcher must use it and start nothing; without
    // it, it starts the embedded Postgres under TASKLANE_DATA_DIR, as a new user's machine does.
    database = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
    env = { TASKLANE_DATA_DIR: dataDir, DATABASE_URL: database?.url, LOG_LEVEL: 'warn' };
  });
  afterAll(async () => {
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs a submitted video task to completion, stops on SIGINT, and finds it again after a restart', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = launch(['start'], { ...env, PORT: String(port) });
    try {
      await until('the API', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined));
      const submitted = await fetch(`${base}/api/v1/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'video', input: { prompt: 'a cat', duration_seconds: 0.5 } }),
      });
      expect(submitted.status).toBe(202);
      const { task_id: id } = (await submitted.json()) as { task_id: string };
      const done = await until('completion', async () => {
        const body = (await (await fetch(`${base}/api/v1/tasks/${id}`)).json()) as { status: string; result: unknown };
        return body.status === 'completed' ? body : undefined;
      });
      expect(done.result).toMatchObject({ service: 'veo3', result: { video_url: expect.stringContaining(id) } });

      first.child.kill('SIGINT');
      expect(await first.exited).toBe(0);

      const second = launch(['start'], { ...env, PORT: String(port) });
      try {
        await until('the API again', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined));
        const again = (await (await fetch(`${base}/api/v1/tasks/${id}`)).json()) as { status: string };
        expect(again.status).toBe('completed');
      } finally {
        second.child.kill('SIGINT');
        expect(await second.exited).toBe(0);
      }
    } catch (error) {
      first.child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n--- launcher output ---\n${first.output().slice(-3000)}`);
    }
  }, 180_000);

  it('refuses a bad setting with one clear line and exit code 2', async () => {
    const run = launch(['start'], { ...env, VIDEO_MAX_CONCURRENT: 'lots' });
    expect(await run.exited).toBe(2);
    expect(run.output().trim()).toBe('tasklane: Invalid VIDEO_MAX_CONCURRENT="lots": expected a whole number from 1 to 1000000');
  });

  it('refuses an unknown command with usage and exit code 4', async () => {
    const run = launch(['frobnicate'], env);
    expect(await run.exited).toBe(4);
    expect(run.output()).toContain('unknown command "frobnicate"');
  });
});

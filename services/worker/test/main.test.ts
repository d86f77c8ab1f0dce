import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool, TaskStore } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url, max: 2 });
  store = new TaskStore(pool);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function start(env: Record<string, string>): Running {
  const base = { ...process.env };
  for (const key of Object.keys(base)) if (key === 'DATABASE_URL' || key.endsWith('_MAX_CONCURRENT') || key === 'LOG_LEVEL') delete base[key];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

it('exits 2 with one clear line when DATABASE_URL is missing', async () => {
  const worker = start({});
  expect(await worker.exit).toBe(2);
  expect(worker.stderr().trim()).toMatch(/^tasklane worker: DATABASE_URL is not set; .+$/);
});

it('exits 2 with one line naming a bad setting', async () => {
  const worker = start({ DATABASE_URL: database.url, WORKER_CONCURRENCY: 'lots' });
  expect(await worker.exit).toBe(2);
  expect(worker.stderr().trim()).toBe('tasklane worker: Invalid WORKER_CONCURRENCY="lots": expected a whole number from 1 to 10000');
});

it('runs tasks, logs JSON lines, and stops gracefully on SIGTERM', async () => {
  const worker = start({ DATABASE_URL: database.url, LOG_LEVEL: 'debug' });
  await waitFor(() => worker.stdout().includes('"msg":"worker ready"'), 'the worker to be ready');
  const { task } = await store.submit({ kind: 'video', input: { duration_seconds: 0.1 } });
  await waitFor(async () => (await store.get(task.id))?.status === 'completed', 'the video to complete');
  expect(await store.get(task.id)).toMatchObject({ service: 'veo3', result: { video_url: `https://cdn.example.com/videos/${task.id}.mp4` } });

  worker.child.kill('SIGTERM');
  expect(await worker.exit).toBe(0);
  const lines = jsonLines(worker.stdout());
  for (const line of lines) {
    expect(typeof line.time).toBe('string');
    expect(['debug', 'info', 'warn', 'error']).toContain(line.level);
    expect(typeof line.msg).toBe('string');
  }
  const messages = lines.map((l) => l.msg);
  expect(messages).toEqual(expect.arrayContaining(['worker ready', 'task completed', 'stopping worker', 'worker stopped']));
  expect(lines.find((l) => l.msg === 'task completed')).toMatchObject({ taskId: task.id, kind: 'video', attempt: 1 });
  const { rows } = await pool.query('select id from tasklane.workers');
  expect(rows).toEqual([]);
});

it('respects LOG_LEVEL', async () => {
  const worker = start({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
  // Nothing at info is printed, so wait for the worker to register instead of for a line.
  await waitFor(async () => (await pool.query('select 1 from tasklane.workers')).rows.length > 0, 'the worker to register');
  worker.child.kill('SIGINT');
  expect(await worker.exit).toBe(0);
  expect(jsonLines(worker.stdout()).filter((l) => l.level === 'info' || l.level === 'debug')).toEqual([]);
});

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

/** The API process alone (`pnpm start:api`), output to pipes. */
function start(env: Record<string, string>, ipc = false) {
  const base = { ...process.env };
  for (const key of ['DATABASE_URL', 'LOG_LEVEL', 'LOG_FORMAT', 'PORT', 'HOST']) delete base[key];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc' as const] : [])] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const messages: unknown[] = [];
  child.on('message', (message) => messages.push(message));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, messages, exit };
}

it('exits 3 with one line naming the port and the fix when its port is taken', async () => {
  const port = await freePort();
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
  try {
    const api = start({ DATABASE_URL: database.url, PORT: String(port) });
    expect(await api.exit).toBe(3);
    const lines = api.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'error',
      service: 'api',
      port,
      msg: `port ${port} is already in use on 127.0.0.1; stop the program holding it, or set PORT to another port (PORT=${port + 1})`,
    });
  } finally {
    holder.close();
  }
});

it('under a launcher, reports its port taken over IPC instead of printing it', async () => {
  const port = await freePort();
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
  try {
    const api = start({ DATABASE_URL: database.url, PORT: String(port) }, true);
    expect(await api.exit).toBe(3);
    expect(api.messages).toEqual([{ type: 'listen-failed', reason: expect.stringContaining(`port ${port} is already in use`) }]);
    expect(api.output()).toBe('');
  } finally {
    holder.close();
  }
});

it('under a launcher, says when it listens, ignores Ctrl-C meant for the launcher, and stops when told', async () => {
  const port = await freePort();
  const api = start({ DATABASE_URL: database.url, PORT: String(port) }, true);
  try {
    await expect.poll(() => api.messages, { timeout: 60_000 }).toEqual([{ type: 'listening', port }]);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    api.child.kill('SIGINT');
    // Still serving: the launcher stops the API after the workers.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    api.child.send({ type: 'stop' });
    expect(await api.exit).toBe(0);
    const stopping = api
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; signal?: string })
      .filter((line) => line.msg.startsWith('stopping api'));
    expect(stopping).toEqual([expect.objectContaining({ msg: 'stopping api', signal: 'launcher: stop' })]);
  } finally {
    api.child.kill('SIGKILL');
  }
});

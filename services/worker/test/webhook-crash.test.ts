import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool, TaskStore, WebhookStore } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { WebhookReceiver } from '@tasklane/worker/testing';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;
let receiver: WebhookReceiver;
const children: ChildProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url, max: 2 });
  store = new TaskStore(pool, { webhookPolicy: { allowPrivate: true, allowHttp: true } });
  // The first request (if the doomed worker gets as far as sending it) is never answered.
  receiver = await new WebhookReceiver((n) => (n === 0 ? 'hang' : 200)).listen();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await receiver.close();
  await pool.end();
  await database.drop();
});

function startWorker(): { child: ChildProcess; stdout: () => string; exit: Promise<unknown> } {
  const base = { ...process.env };
  for (const key of Object.keys(base)) if (/DATABASE_URL|_MAX_CONCURRENT|LOG_LEVEL|^AUTH$|^HOST$|^WEBHOOK_/.test(key)) delete base[key];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { ...base, DATABASE_URL: database.url, WEBHOOK_TIMEOUT_SECONDS: '2', WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exit = new Promise((resolve) => child.on('exit', resolve));
  return { child, stdout: () => out, exit };
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

it('still delivers a completion whose worker was SIGKILLed right after committing it, from another process', async () => {
  const doomed = startWorker();
  await waitFor(() => doomed.stdout().includes('"msg":"worker ready"'), 'the first worker to be ready');
  const { task } = await store.submit({ kind: 'image', input: { duration_seconds: 0.2 }, webhook: { url: receiver.url } });
  // "task completed" is logged once the completion has committed: kill the process right then.
  const completed = () =>
    doomed
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .some((line) => {
        const entry = JSON.parse(line) as { msg?: string; taskId?: string };
        return entry.msg === 'task completed' && entry.taskId === task.id;
      });
  await waitFor(completed, 'the completion');
  doomed.child.kill('SIGKILL');
  await doomed.exit;
  const killedAt = Date.now();
  expect((await store.get(task.id))!.status).toBe('completed');
  expect(receiver.forTask(task.id).filter((r) => r.status === 200)).toHaveLength(0);

  startWorker();
  const hooks = new WebhookStore(pool);
  await waitFor(async () => (await hooks.deliveries(task.id))[0]?.state === 'delivered', 'the delivery by the second worker');
  const answered = receiver.forTask(task.id).filter((r) => r.status === 200);
  expect(answered).toHaveLength(1);
  expect(answered[0]!.at).toBeGreaterThanOrEqual(killedAt);
  expect(answered[0]!.json).toMatchObject({ type: 'task.completed', data: { task_id: task.id, status: 'completed' } });
  // Every request that reached the receiver was this one delivery: one webhook-id.
  expect(new Set(receiver.forTask(task.id).map((r) => r.headers['webhook-id'])).size).toBe(1);
});

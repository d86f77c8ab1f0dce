import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTaskId, type Task as StoredTask } from '@tasklane/core';
import { createPool, freePort } from '@tasklane/db';
import { createTaskDriver, createTestDatabase, type TaskDriver, type TestDatabase } from '@tasklane/db/testing';
import { createTasklaneClient, type Task, type TasklaneClient } from '@tasklane/client';
import { startApiProcess, type ApiProcess } from '@tasklane/client/testing';
import { run, tasklane } from './cli-process.ts';

let db: TestDatabase;
let api: ApiProcess;
let driver: TaskDriver;
let client: TasklaneClient;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApiProcess({ databaseUrl: db.url });
  driver = createTaskDriver(db.url);
  // Polling only: this client just sets up tasks for the CLI to find.
  client = createTasklaneClient({ url: api.url });
  env = { TASKLANE_URL: api.origin };
  dir = await mkdtemp(path.join(tmpdir(), 'tasklane-cli-'));
}, 180_000);
afterAll(async () => {
  await driver?.close();
  await api?.stop();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Claims the task of `kind` once the CLI has submitted it. */
async function claimWhenSubmitted(kind: string): Promise<StoredTask> {
  for (let i = 0; ; i++) {
    try {
      return await driver.claim(kind);
    } catch (error) {
      if (i > 600) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The one-line reason on stderr, checked to be exactly one line. */
function reason(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('submit', () => {
  it('queues a task and prints it for people', async () => {
    const { code, stdout, stderr } = await run(['submit', 'cli_sub', '--input', '{"prompt":"a cat"}', '--service', 'veo3', '--priority', '5'], env);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const id = /^Submitted (\S+)/.exec(stdout)?.[1];
    expect(id).toMatch(/^cli_/);
    expect(stdout).toMatch(/status\s+pending/);
    expect(stdout).toContain('input     {"prompt":"a cat"}');
    expect(stdout).toContain(`tasklane watch ${id}`);
    expect(await client.get(id!)).toMatchObject({ kind: 'cli_sub', service: 'veo3', priority: 5, input: { prompt: 'a cat' } });
  });

  it('prints the task as JSON with --json, reading input from a file', async () => {
    const file = path.join(dir, 'input.json');
    await writeFile(file, JSON.stringify({ duration_seconds: 4 }));
    const { code, stdout } = await run(['submit', 'cli_json', '--input-file', file, '--max-attempts', '2', '--idempotency-key', 'k1', '--json'], env);
    expect(code).toBe(0);
    const task = JSON.parse(stdout) as Task;
    expect(task).toMatchObject({ kind: 'cli_json', status: 'PENDING', input: { duration_seconds: 4 }, maxAttempts: 2 });
    const again = JSON.parse((await run(['submit', 'cli_json', '--input-file', file, '--max-attempts', '2', '--idempotency-key', 'k1', '--json'], env)).stdout) as Task;
    expect(again.id).toBe(task.id);
  });

  it('--wait follows the task live and exits 0 when it completes', async () => {
    const cli = tasklane(['submit', 'cli_wait', '--wait'], env);
    const claimed = await claimWhenSubmitted('cli_wait');
    await cli.printed('processing');
    await driver.progress(claimed, 50, 'Rendering frames');
    await cli.printed('Rendering frames');
    await driver.complete(claimed, { video_url: 'https://cdn.example.com/v.mp4' });
    expect(await cli.exited).toBe(0);
    const lines = cli.stdout().trim().split('\n');
    expect(lines[0]).toBe(`Submitted ${claimed.id}`);
    // Not a terminal: plain lines, one per change, no carriage returns.
    expect(cli.stdout()).not.toContain('\r');
    expect(lines.some((l) => l.includes(' 50%') && l.includes('processing') && l.includes('Rendering frames'))).toBe(true);
    expect(lines).toContain(`result: {"video_url":"https://cdn.example.com/v.mp4"}`);
    expect(lines.find((l) => l.startsWith(`${claimed.id} completed in `))).toBeDefined();
    expect(cli.stderr()).toBe('');
  });

  it('--wait exits 1 with the task error when it fails', async () => {
    const cli = tasklane(['submit', 'cli_wfail', '--wait', '--json'], env);
    const claimed = await claimWhenSubmitted('cli_wfail');
    await driver.fail(claimed, { type: 'VideoGenerationError', message: 'Content policy violation', retryable: false });
    expect(await cli.exited).toBe(1);
    expect(reason(cli.stderr())).toBe(`tasklane: task ${claimed.id} failed: VideoGenerationError: Content policy violation`);
    // --json --wait: one JSON document per state, the last one terminal.
    const states = cli.stdout().trim().split('\n').map((l) => JSON.parse(l) as Task);
    expect(states[0]).toMatchObject({ id: claimed.id, status: 'PENDING' });
    expect(states.at(-1)).toMatchObject({ status: 'FAILED', error: { type: 'VideoGenerationError' } });
  });

  it('submits with --webhook and --webhook-events, and names an unknown event', async () => {
    const { code, stdout } = await run(['submit', 'cli_hook', '--webhook', 'http://127.0.0.1:9/hook', '--webhook-events', 'processing,completed', '--json'], env);
    expect(code).toBe(0);
    const task = JSON.parse(stdout) as Task;
    const pool = createPool({ connectionString: db.url, max: 1 });
    const stored = await pool.query<{ webhook: unknown }>('select webhook from tasklane.tasks where id = $1', [task.id]).finally(() => pool.end());
    expect(stored.rows[0]!.webhook).toEqual({ url: 'http://127.0.0.1:9/hook', events: ['processing', 'completed'] });
    const bad = await run(['submit', 'cli_hook', '--webhook', 'http://127.0.0.1:9/hook', '--webhook-events', 'done'], env);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('"done" is not an event');
    const refused = await run(['submit', 'cli_hook', '--webhook', 'not-a-url'], env);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('webhook.url');
  });

  it('prints the webhook secret and rotates it', async () => {
    const first = await run(['webhooks', 'secret'], env);
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    const rotated = await run(['webhooks', 'rotate', '--json'], env);
    const body = JSON.parse(rotated.stdout) as { secret: string; previous_expires_at: string };
    expect(body.secret).not.toBe(first.stdout.trim());
    expect(body.previous_expires_at).toMatch(/Z$/);
    expect((await run(['webhooks', 'secret'], env)).stdout.trim()).toBe(body.secret);
  });

  it('exits 4 on input that is not JSON', async () => {
    const { code, stderr } = await run(['submit', 'cli_bad', '--input', '{nope'], env);
    expect(code).toBe(4);
    expect(reason(stderr)).toMatch(/^tasklane: submit: --input is not valid JSON/);
  });

  it('exits 4 when the server refuses the input', async () => {
    const { code, stderr } = await run(['submit', 'Bad Kind'], env);
    expect(code).toBe(4);
    expect(reason(stderr)).toMatch(/BAD_USER_INPUT/);
  });

  it.each([['"x"'], ['[1]'], ['5'], ['null']])('exits 4 naming input when the input %s is not a JSON object', async (input) => {
    const { code, stderr } = await run(['submit', 'cli_obj', '--input', input], env);
    expect(code).toBe(4);
    expect(reason(stderr)).toMatch(/input: must be a JSON object/);
  });

  it('exits 4 naming the limit and the setting when the input nests deeper than the server allows', async () => {
    const { code, stderr } = await run(['submit', 'cli_deep', '--input', `{"a":${'['.repeat(40)}${']'.repeat(40)}}`], env);
    expect(code).toBe(4);
    expect(reason(stderr)).toMatch(/input: must nest arrays and objects at most 32 levels deep \(MAX_INPUT_DEPTH\)/);
  });

  it('exits 4 naming input, not a failed connection, for 5,000 nested arrays', async () => {
    const { code, stderr } = await run(['submit', 'cli_deep', '--input', `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`], env);
    expect(code).toBe(4);
    expect(reason(stderr)).toMatch(/input: must nest arrays and objects at most 1000 levels deep \(the most MAX_INPUT_DEPTH allows\)/);
  });

  it('exits 4 on a bad option value and on a missing kind', async () => {
    const bad = await run(['submit', 'cli_x', '--priority', 'high'], env);
    expect(bad.code).toBe(4);
    expect(reason(bad.stderr)).toContain('--priority must be a whole number from -1000 to 1000, got "high"');
    const missing = await run(['submit'], env);
    expect(missing.code).toBe(4);
    expect(reason(missing.stderr)).toContain('submit: missing <kind>');
  });
});

describe('watch', () => {
  it('redraws a queued task\'s place as the tasks ahead of it start', async () => {
    const kind = 'cli_wqueue';
    await client.submit({ kind });
    await client.submit({ kind });
    const task = await client.submit({ kind });
    const cli = tasklane(['watch', task.id], env);
    await cli.printed('queued: 2 ahead');
    await driver.claim(kind);
    await cli.printed('queued: 1 ahead');
    await driver.claim(kind);
    await cli.printed('queued: 0 ahead');
    await client.cancel(task.id);
    expect(await cli.exited).toBe(2);
    const lines = cli.stdout().trim().split('\n');
    // One line per place, all of the same pending version, then the cancelled state.
    expect(lines.slice(0, 3).map((line) => /queued: (\d) ahead/.exec(line)?.[1])).toEqual(['2', '1', '0']);
    expect(lines.at(-1)).toContain('cancelled');
  });

  it('prints a line per change and exits 2 when the task is cancelled', async () => {
    const task = await client.submit({ kind: 'cli_wcancel' });
    const cli = tasklane(['watch', task.id], env);
    await cli.printed('pending');
    const claimed = await driver.claim('cli_wcancel');
    await cli.printed('processing');
    await driver.progress(claimed, 20, 'Starting');
    await cli.printed('Starting');
    await client.cancel(task.id);
    expect(await cli.exited).toBe(2);
    expect(reason(cli.stderr())).toBe(`tasklane: task ${task.id} was cancelled`);
    const lines = cli.stdout().trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${task.id}  \\[░+\\]    0%  pending  queued: 0 ahead`));
    expect(lines.some((l) => /\[█+░+\] +20% {2}processing {2}Starting$/.test(l))).toBe(true);
    // The last state is shown like the others; the reason goes to stderr.
    expect(lines.at(-1)).toMatch(new RegExp(`^${task.id} .* cancelled {2}Task cancelled$`));
  });

  it('exits 0 for a task that already completed, with --json lines', async () => {
    const task = await client.submit({ kind: 'cli_wdone' });
    await driver.complete(await driver.claim('cli_wdone'), { ok: true });
    const { code, stdout } = await run(['watch', task.id, '--json'], env);
    expect(code).toBe(0);
    const states = stdout.trim().split('\n').map((l) => JSON.parse(l) as Task);
    expect(states).toHaveLength(1);
    expect(states[0]).toMatchObject({ id: task.id, status: 'COMPLETED', result: { ok: true } });
  });

  it('exits 1 for a failed task', async () => {
    const task = await client.submit({ kind: 'cli_wf' });
    await driver.fail(await driver.claim('cli_wf'), { type: 'ImageError', message: 'no pixels', retryable: false });
    const { code, stderr } = await run(['watch', task.id], env);
    expect(code).toBe(1);
    expect(reason(stderr)).toBe(`tasklane: task ${task.id} failed: ImageError: no pixels`);
  });

  it('exits 3 after --timeout with the state it last saw', async () => {
    const task = await client.submit({ kind: 'cli_wtime' });
    const { code, stderr } = await run(['watch', task.id, '--timeout', '0.5'], env);
    expect(code).toBe(3);
    expect(reason(stderr)).toBe(`tasklane: gave up waiting for task ${task.id} after 0.5s (still pending at 0%)`);
  });

  it('exits 4 when the server cannot be reached', async () => {
    const port = await freePort();
    const { code, stderr } = await run(['watch', 'vid_x', '--url', `http://127.0.0.1:${port}`], env);
    expect(code).toBe(4);
    expect(reason(stderr)).toMatch(/is the server running\?/);
  });

  it('exits 4 for an unknown task and for a missing id', async () => {
    const unknown = await run(['watch', newTaskId('video')], env);
    expect(unknown.code).toBe(4);
    expect(reason(unknown.stderr)).toMatch(/NOT_FOUND/);
    const missing = await run(['watch'], env);
    expect(missing.code).toBe(4);
    expect(reason(missing.stderr)).toContain('watch: missing <id>');
  });
});

describe('get', () => {
  it('prints a task for people and as JSON', async () => {
    const task = await client.submit({ kind: 'cli_get', input: { n: 1 } });
    const claimed = await driver.claim('cli_get');
    await driver.progress(claimed, 45, 'Encoding');
    const human = await run(['get', task.id], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^id\\s+${task.id}$`, 'm'));
    expect(human.stdout).toMatch(/^status\s+processing$/m);
    expect(human.stdout).toMatch(/^progress\s+45%$/m);
    expect(human.stdout).toMatch(/^message\s+Encoding$/m);
    expect(human.stdout).toMatch(/^attempts\s+1\/3$/m);
    const json = await run(['get', task.id, '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: task.id, status: 'PROCESSING', progress: 45, input: { n: 1 } });
  });

  it('exits 4 for an unknown id', async () => {
    const id = newTaskId('video');
    const { code, stderr } = await run(['get', id], env);
    expect(code).toBe(4);
    expect(reason(stderr)).toMatch(/NOT_FOUND/);
  });
});

describe('list', () => {
  it('prints a table filtered by kind and status, newest first, and JSON with --json', async () => {
    const a = await client.submit({ kind: 'cli_lista' });
    const b = await client.submit({ kind: 'cli_lista' });
    const c = await client.submit({ kind: 'cli_lista' });
    await client.cancel(b.id);
    await client.submit({ kind: 'cli_listb' });

    const table = await run(['list', '--kind', 'cli_lista', '--status', 'pending,cancelled'], env);
    expect(table.code).toBe(0);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^ID\s+KIND\s+STATUS\s+PROGRESS\s+CREATED\s+MESSAGE$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0])).toEqual([c.id, b.id, a.id]);
    expect(rows[2]).toMatch(/cancelled/);

    const pendingOnly = await run(['list', '--kind', 'cli_lista', '--status', 'pending', '--limit', '1', '--json'], env);
    expect((JSON.parse(pendingOnly.stdout) as Task[]).map((t) => t.id)).toEqual([c.id]);

    const none = await run(['list', '--kind', 'cli_nothing'], env);
    expect(none.stdout.trim()).toBe('No tasks.');
  });

  it('exits 4 on an unknown status', async () => {
    const { code, stderr } = await run(['list', '--status', 'sleeping'], env);
    expect(code).toBe(4);
    expect(reason(stderr)).toContain('list: unknown status "sleeping"');
  });
});

describe('cancel', () => {
  it('cancels for people, idempotently, and prints JSON with --json', async () => {
    const task = await client.submit({ kind: 'cli_cancel' });
    const first = await run(['cancel', task.id], env);
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toBe(`Task ${task.id} has been cancelled`);
    const second = await run(['cancel', task.id, '--json'], env);
    expect(JSON.parse(second.stdout)).toMatchObject({ success: true, alreadyCancelled: true, task: { id: task.id, status: 'CANCELLED' } });
  });

  it('exits 4 for a completed task', async () => {
    const task = await client.submit({ kind: 'cli_cdone' });
    await driver.complete(await driver.claim('cli_cdone'), null);
    const { code, stderr } = await run(['cancel', task.id], env);
    expect(code).toBe(4);
    expect(reason(stderr)).toMatch(/TASK_NOT_CANCELLABLE/);
  });
});

describe('usage', () => {
  it('exits 4 on an address that is not an http URL', async () => {
    const { code, stderr } = await run(['list'], { TASKLANE_URL: 'localhost:8000' });
    expect(code).toBe(4);
    expect(reason(stderr)).toContain('"localhost:8000" is not an http(s) URL (from TASKLANE_URL)');
  });

  it('exits 4 on an unknown option', async () => {
    const { code, stderr } = await run(['get', 'x', '--frobnicate'], env);
    expect(code).toBe(4);
    expect(reason(stderr)).toContain("Unknown option '--frobnicate'");
  });
});

describe('retry, bulk cancel and metadata', () => {
  it('retry <id> re-runs a failed task and prints the new one; a pending task exits 4 saying why', async () => {
    const task = await client.submit({ kind: 'cli_retry', maxAttempts: 1 });
    await driver.fail(await driver.claim('cli_retry'), { type: 'Boom', message: 'no', retryable: false });
    const { code, stdout } = await run(['retry', task.id, '--json'], env);
    expect(code).toBe(0);
    const retried = JSON.parse(stdout) as Task;
    expect(retried).toMatchObject({ kind: 'cli_retry', status: 'PENDING', retriedFrom: task.id });
    const refused = await run(['retry', retried.id], env);
    expect(refused.code).toBe(4);
    expect(reason(refused.stderr)).toMatch(/because it is pending.*\(TASK_NOT_RETRYABLE\)/);
  });

  it('submit --metadata labels a task, list --metadata finds it, cancel --metadata cancels every match', async () => {
    const submitted = await run(['submit', 'cli_meta', '--metadata', 'customer=acme', '--metadata', 'batch=7', '--json'], env);
    expect(submitted.code).toBe(0);
    const task = JSON.parse(submitted.stdout) as Task;
    expect(task.metadata).toEqual({ customer: 'acme', batch: '7' });
    await client.submit({ kind: 'cli_meta', metadata: { customer: 'initech' } });
    const listed = await run(['list', '--kind', 'cli_meta', '--metadata', 'customer=acme', '--json'], env);
    expect((JSON.parse(listed.stdout) as Task[]).map((t) => t.id)).toEqual([task.id]);
    const cancelled = await run(['cancel', '--kind', 'cli_meta', '--metadata', 'customer=acme'], env);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout.trim()).toBe('Cancelled 1 of 1 matching tasks');
    expect((await client.get(task.id)).status).toBe('CANCELLED');
  });

  it('refuses a bare cancel and a malformed --metadata with exit 4', async () => {
    const bare = await run(['cancel'], env);
    expect(bare.code).toBe(4);
    expect(reason(bare.stderr)).toContain('cancel: missing <id> (or filters such as --status pending, or --all)');
    const malformed = await run(['list', '--metadata', 'customer'], env);
    expect(malformed.code).toBe(4);
    expect(reason(malformed.stderr)).toContain('list: --metadata takes key=value, got "customer"');
  });
});

describe('submit to a server that checks kinds', () => {
  let checking: ApiProcess;
  beforeAll(async () => {
    checking = await startApiProcess({ databaseUrl: db.url, env: { TASK_KINDS: 'cli_known' } });
  }, 180_000);
  afterAll(() => checking?.stop());

  it('exits 4 naming the known kinds when no worker serves the kind', async () => {
    const { code, stderr } = await run(['submit', 'cli_typo'], { TASKLANE_URL: checking.origin });
    expect(code).toBe(4);
    expect(reason(stderr)).toMatch(/kind: no worker serves "cli_typo" and TASK_KINDS does not declare it; known kinds: cli_known/);
  });

  it('queues a kind that TASK_KINDS declares', async () => {
    const { code, stdout } = await run(['submit', 'cli_known', '--json'], { TASKLANE_URL: checking.origin });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ kind: 'cli_known', status: 'PENDING' });
  });
});

describe('kinds', () => {
  it('pauses a kind so no worker claims its tasks, lists it paused, and resumes it', async () => {
    const task = await client.submit({ kind: 'cli_paused' });
    const paused = await run(['kinds', 'pause', 'cli_paused'], env);
    expect(paused.stderr).toBe('');
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/^cli_paused {2}paused since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}0 live workers {2}1 pending\n$/);
    await expect(driver.claim('cli_paused')).rejects.toThrow('no pending cli_paused task');
    expect((await client.get(task.id)).queue?.waitingFor).toBe('paused');

    const listed = JSON.parse((await run(['kinds', '--json'], env)).stdout) as { kind: string; paused: boolean }[];
    expect(listed.find((k) => k.kind === 'cli_paused')).toMatchObject({ paused: true });

    const resumed = await run(['kinds', 'resume', 'cli_paused', '--json'], env);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ kind: 'cli_paused', paused: false, pausedAt: null, pending: 1 });
    expect((await driver.claim('cli_paused')).id).toBe(task.id);
  });

  it('says what is missing or unknown, exit 4', async () => {
    const missing = await run(['kinds', 'pause'], env);
    expect(missing.code).toBe(4);
    expect(reason(missing.stderr)).toBe('tasklane: kinds pause: missing <kind> (see tasklane help)');
    const unknown = await run(['kinds', 'stop', 'video'], env);
    expect(unknown.code).toBe(4);
    expect(reason(unknown.stderr)).toContain('kinds: unknown action "stop" (list, pause or resume)');
  });
});

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRestHarness, uniqueKind, type RestHarness } from './rest-harness.ts';

/**
 * The seed document's own Python polling clients (copied unchanged into seed_client.py) against a
 * live server, with tasks moved by the test right after the client's first poll: what legacy
 * clients see is what they were written for.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
// shared/ sits beside the repository (as CI lays it out too).
const SEED_CANDIDATES = [path.resolve(here, '../../../../shared/seed/task-management.md'), path.resolve(here, '../../../../../shared/seed/task-management.md')];

let h: RestHarness;
let scriptPath: string;
let scriptDir: string;

beforeAll(async () => {
  h = await startRestHarness();
  scriptDir = mkdtempSync(path.join(tmpdir(), 'tasklane-seed-client-'));
  scriptPath = path.join(scriptDir, 'seed_client.py');
  const source = readFileSync(path.join(here, 'seed_client.py'), 'utf8');
  writeFileSync(scriptPath, source.replaceAll('http://localhost:8000', h.baseUrl));
});
afterAll(async () => {
  await h.close();
  rmSync(scriptDir, { recursive: true, force: true });
});

interface PythonOutcome {
  ok?: unknown;
  raised?: string;
  message?: string;
  stdout: string;
}

function runPython(...args: string[]): Promise<PythonOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [scriptPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) return reject(new Error(`python exited ${code}\n${stdout}\n${stderr}`));
      resolve({ ...(JSON.parse(line.slice(7)) as object), stdout });
    });
  });
}

async function submit(kind: string): Promise<string> {
  const response = await fetch(`${h.baseUrl}/api/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind, input: { prompt: 'a cat' } }),
  });
  return ((await response.json()) as { task_id: string }).task_id;
}

const polled = (id: string, nth = 1) => {
  let count = 0;
  return h.seen((r) => r.method === 'GET' && r.url === `/api/v1/tasks/${id}` && ++count === nth);
};

async function getBody(id: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${h.baseUrl}/api/v1/tasks/${id}`)).json()) as Record<string, unknown>;
}

describe('the seed code is the seed\'s', () => {
  it('matches the seed document byte for byte, block by block', () => {
    const seedPath = SEED_CANDIDATES.find((p) => existsSync(p));
    if (!seedPath) return; // The seed lives in shared/, beside the repository; without it there is nothing to compare.
    const seed = readFileSync(seedPath, 'utf8');
    const client = readFileSync(path.join(here, 'seed_client.py'), 'utf8');
    const copied = client.slice(client.indexOf('import requests'), client.indexOf('# ---- test driver'));
    const functions = copied.split(/\n(?=import time\n\ndef wait_for_task_smart|import asyncio|def submit_with_retry)/);
    expect(functions).toHaveLength(4);
    for (const block of functions) expect(seed).toContain(block.trimEnd());
  });
});

describe.concurrent('the seed\'s Python clients against the live server', () => {
  it('wait_for_task returns the completed task\'s result', async () => {
    const kind = uniqueKind('py');
    const id = await submit(kind);
    await h.worker.claim(kind);
    const run = runPython('wait_for_task', id);
    await polled(id);
    await h.worker.complete(id, { video_url: 'https://cdn.example.com/video.mp4' }, 'veo3');
    const outcome = await run;
    expect(outcome.raised).toBeUndefined();
    expect(outcome.ok).toEqual((await getBody(id)).result);
    expect(outcome.ok).toMatchObject({ service: 'veo3', result: { video_url: 'https://cdn.example.com/video.mp4' } });
  });

  it('wait_for_task raises "Task failed: …" for a failed task', async () => {
    const kind = uniqueKind('pyf');
    const id = await submit(kind);
    await h.worker.claim(kind);
    const run = runPython('wait_for_task', id);
    await polled(id);
    await h.worker.fail(id, { type: 'VideoGenerationError', message: 'Content policy violation', retryable: false }, 35);
    expect(await run).toMatchObject({
      raised: 'Exception',
      message: "Task failed: {'type': 'VideoGenerationError', 'message': 'Content policy violation'}",
    });
  });

  it('wait_for_task raises "Task was cancelled" for a cancelled task', async () => {
    const id = await submit(uniqueKind('pyc'));
    const run = runPython('wait_for_task', id);
    await polled(id);
    expect((await fetch(`${h.baseUrl}/api/v1/tasks/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await run).toMatchObject({ raised: 'Exception', message: 'Task was cancelled' });
  });

  it('wait_for_task_smart reports progress and returns the final status', async () => {
    const kind = uniqueKind('pys');
    const id = await submit(kind);
    const run = runPython('wait_for_task_smart', id);
    await polled(id, 1);
    await h.worker.claim(kind);
    await h.worker.progress(id, 45);
    await polled(id, 2);
    await h.worker.complete(id, { image_url: 'i' }, 'imagen');
    const outcome = await run;
    expect(outcome.ok).toEqual(await getBody(id));
    expect(outcome.stdout).toContain('[0s] Status: pending, Progress: 0%');
    expect(outcome.stdout).toContain('[2s] Status: processing, Progress: 45%');
    expect(outcome.stdout).toContain('Status: completed, Progress: 100%');
  });

  it('monitor_multiple_tasks returns each task\'s final status', async () => {
    const kind = uniqueKind('pym');
    const [done, failed, cancelled] = [await submit(kind), await submit(kind), await submit(kind)];
    const run = runPython('monitor_multiple_tasks', done, failed, cancelled);
    await Promise.all([polled(done), polled(failed), polled(cancelled)]);
    const claimed = await h.worker.claimMany(kind, 3);
    expect(claimed.map((t) => t.id).sort()).toEqual([done, failed, cancelled].sort());
    await h.worker.complete(done, { ok: true }, 'veo3');
    await h.worker.fail(failed, { type: 'E', message: 'nope', retryable: false });
    await fetch(`${h.baseUrl}/api/v1/tasks/${cancelled}`, { method: 'DELETE' });
    const outcome = await run;
    expect(outcome.ok).toEqual([await getBody(done), await getBody(failed), await getBody(cancelled)]);
    expect((outcome.ok as { status: string }[]).map((s) => s.status)).toEqual(['completed', 'failed', 'cancelled']);
  });

  it('submit_with_retry submits through POST and returns the result', async () => {
    const kind = uniqueKind('pyr');
    const run = runPython('submit_with_retry', JSON.stringify({ kind, input: { prompt: 'a dog' } }));
    // Ids of kinds without a short prefix start with the kind itself.
    const posted = await h.seen((r) => r.method === 'POST' && r.statusCode === 202 && (r.location?.startsWith(`/api/v1/tasks/${kind}_`) ?? false));
    const id = posted.location!.slice('/api/v1/tasks/'.length);
    await h.worker.claim(kind);
    await h.worker.complete(id, { video_url: 'd' }, 'veo3');
    const outcome = await run;
    expect(outcome.raised).toBeUndefined();
    expect(outcome.ok).toEqual((await getBody(id)).result);
  });

  it('lets a requests.Session that sends Content-Type: application/json on every request poll and cancel', async () => {
    const id = await submit(uniqueKind('pysess'));
    const outcome = await runPython('session_poll_and_cancel', id);
    expect(outcome.raised).toBeUndefined();
    expect(outcome.ok).toEqual({
      sent_content_type: 'application/json',
      get: [200, 'pending'],
      delete: [200, { success: true, message: `Task ${id} has been cancelled`, task_id: id }],
      list: 200,
    });
  });
});

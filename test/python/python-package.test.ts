import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { startApiProcess, type ApiProcess } from '@tasklane/client/testing';
import { createPool } from '@tasklane/db';
import { ApiKeyStore } from '@tasklane/db/limits';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { PACKAGE_DIR, requirePython, runPython } from './python-process.ts';

/**
 * The Python package's own unit tests (clients/python/tests, stdlib unittest), run against a live
 * API on loopback with AUTH=on and required to reach it; its packaging; and its webhook signatures
 * against the npm standardwebhooks package.
 */

let db: TestDatabase;
let api: ApiProcess;
let keys: { owner: string; worker: string };

beforeAll(async () => {
  requirePython();
  db = await createTestDatabase();
  const pool = createPool({ connectionString: db.url, max: 1 });
  try {
    const store = new ApiKeyStore(pool);
    keys = { owner: (await store.create({ owner: 'py_owner' })).key, worker: (await store.create({ owner: 'worker', worker: true })).key };
  } finally {
    await pool.end();
  }
  api = await startApiProcess({ databaseUrl: db.url, env: { AUTH: 'on', RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '0', RATE_LIMIT_SUBSCRIPTIONS: '0' } });
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await db?.drop();
});

describe('clients/python', () => {
  it('passes its unit tests, the live ones included, against the API on loopback', async () => {
    const run = await runPython(['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v'], {
      PYTHONPATH: PACKAGE_DIR,
      TASKLANE_TEST_URL: api.origin,
      TASKLANE_TEST_OWNER_KEY: keys.owner,
      TASKLANE_TEST_WORKER_KEY: keys.worker,
      TASKLANE_TEST_REQUIRE_SERVER: '1',
    }, PACKAGE_DIR);
    const summary = `${run.stdout}\n${run.stderr}`;
    expect(run.code, summary).toBe(0);
    const ran = /^Ran (\d+) tests? in/m.exec(run.stderr);
    expect(Number(ran?.[1]), summary).toBeGreaterThanOrEqual(21);
    expect(run.stderr).toMatch(/^OK$/m);
    expect(run.stderr).not.toMatch(/skipped/);
    expect(run.stderr).toMatch(/^test_a_worker_runs_a_task_with_progress_and_wait_and_follow_see_it_through .*\.\.\. ok$/m);
  }, 120_000);

  it('builds as a wheel named tasklane with nothing but its own package (pip, offline)', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'tasklane-wheel-'));
    const work = mkdtempSync(path.join(tmpdir(), 'tasklane-src-'));
    try {
      // A copy, so that the build leaves nothing in the repository's tree.
      await runPython(['-c', `import shutil; shutil.copytree(${JSON.stringify(PACKAGE_DIR)}, ${JSON.stringify(path.join(work, 'src'))}, ignore=shutil.ignore_patterns('__pycache__', 'build', '*.egg-info'))`], {});
      const build = await runPython(['-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-index', '-w', out, path.join(work, 'src')], {});
      expect(build.code, build.stdout + build.stderr).toBe(0);
      const wheels = readdirSync(out);
      expect(wheels).toEqual([expect.stringMatching(/^tasklane-0\.1\.0-py3-none-any\.whl$/)]);
      const listing = await runPython(['-c', 'import sys, zipfile; print("\\n".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))', path.join(out, wheels[0]!)], {});
      const files = listing.stdout.trim().split('\n');
      expect(files).toEqual(expect.arrayContaining(['tasklane/__init__.py', 'tasklane/client.py', 'tasklane/worker.py', 'tasklane/webhooks.py', 'tasklane/py.typed']));
      expect(files.filter((f) => !f.startsWith('tasklane/') && !f.startsWith('tasklane-0.1.0.dist-info/'))).toEqual([]);
      const metadata = await runPython(['-c', 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read("tasklane-0.1.0.dist-info/METADATA").decode())', path.join(out, wheels[0]!)], {});
      expect(metadata.stdout).toContain('Requires-Python: >=3.9');
      expect(metadata.stdout).toMatch(/^Requires-Dist: requests ?\(?>=2\.25\)?$/m);
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);

  it('signs and verifies webhooks exactly as the standardwebhooks package does', async () => {
    const secret = `whsec_${Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('base64')}`;
    const body = '{"type":"task.completed","data":{"task_id":"vid_01jh8x2c3d4e5f6g7h8j9k0m1n"}}';
    // The vector the Python unit test pins.
    expect(new Webhook(secret).sign('msg_2Xn8sLq0', new Date(1767225600 * 1000), body)).toBe('v1,cH6Cg78hsWIUOKfR9F1saaLdYsFF93jv79xTYMSvE5c=');
    // A fresh delivery signed by the npm package verifies in Python; a tampered one does not.
    const now = new Date();
    const headers = { 'webhook-id': 'msg_fresh', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('msg_fresh', now, body) };
    const script = 'import json, sys; from tasklane import verify_webhook, WebhookVerificationError\n' +
      'h = json.loads(sys.argv[2])\n' +
      'try:\n  print(json.dumps(verify_webhook(sys.argv[1].encode(), h, sys.argv[3])))\n' +
      'except WebhookVerificationError as e:\n  print("REFUSED", e)';
    const good = await runPython(['-c', script, body, JSON.stringify(headers), secret], { PYTHONPATH: PACKAGE_DIR });
    expect(JSON.parse(good.stdout)).toEqual(JSON.parse(body));
    const bad = await runPython(['-c', script, body.replace('completed', 'failed'), JSON.stringify(headers), secret], { PYTHONPATH: PACKAGE_DIR });
    expect(bad.stdout).toMatch(/^REFUSED no webhook-signature matches/);
  });
});


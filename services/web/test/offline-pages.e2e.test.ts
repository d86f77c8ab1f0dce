import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { startApiProcess, type ApiProcess } from '@tasklane/client/testing';
import { CHROMIUM, hasChromium, launchBrowser, type Browser } from './browser.ts';
import { buildDashboard } from './build-dashboard.ts';
import { startWorkerProcess, type WorkerProcess } from './worker-process.ts';

// A shared 2-core machine can be slow: wait long for conditions, never assert on timing.
const WAIT_MS = 90_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

if (!hasChromium) console.warn(`offline pages e2e skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

/** What went wrong while a page loaded and ran: each list must stay empty. */
interface Trouble {
  /** Requests that did not go to loopback: aborted, as on a machine with no internet. */
  offLoopback: string[];
  failed: string[];
  errorStatus: string[];
  consoleErrors: string[];
}

/**
 * The pages the API serves for people, on a machine with no internet: every request that does not
 * go to loopback is blocked, and the pages must still work, with no failed request and no error.
 */
describe.skipIf(!hasChromium)('the API\'s pages with no internet', { timeout: 4 * WAIT_MS }, () => {
  let dist: string;
  let db: TestDatabase;
  let api: ApiProcess;
  let worker: WorkerProcess;
  let browser: Browser;

  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), 'tasklane-offline-dist-'));
    await buildDashboard(dist);
    db = await createTestDatabase();
    // Kinds are checked as in `pnpm start`: the worker registers video and image.
    api = await startApiProcess({ databaseUrl: db.url, env: { TASKLANE_DASHBOARD_DIR: dist, TASK_KINDS: '' } });
    worker = startWorkerProcess(db.url);
    browser = await launchBrowser();
    await browser.context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (LOOPBACK.has(url.hostname)) return route.continue();
      return route.abort('internetdisconnected');
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    await api?.stop();
    await db?.drop();
    if (dist) await rm(dist, { recursive: true, force: true });
  }, 60_000);

  async function openPage(path: string): Promise<{ page: Page; trouble: Trouble }> {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const trouble: Trouble = { offLoopback: [], failed: [], errorStatus: [], consoleErrors: [] };
    page.on('request', (request) => {
      const url = new URL(request.url());
      if ((url.protocol === 'http:' || url.protocol === 'https:') && !LOOPBACK.has(url.hostname)) trouble.offLoopback.push(url.href);
    });
    page.on('requestfailed', (request) => trouble.failed.push(`${request.url()}: ${request.failure()?.errorText}`));
    page.on('response', (response) => {
      if (response.status() >= 400) trouble.errorStatus.push(`${response.status()} ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') trouble.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => trouble.consoleErrors.push(`pageerror: ${error.message}`));
    await page.goto(`${api.origin}${path}`, { waitUntil: 'load' });
    return { page, trouble };
  }

  /** The text of one of GraphiQL's editors (Monaco renders spaces as no-break spaces). */
  const editorText = (page: Page, selector: string) =>
    page
      .locator(selector)
      .first()
      .innerText()
      .then((text) => text.replace(/\u00a0/g, ' '))
      .catch(() => '');
  const resultText = (page: Page) => editorText(page, '.graphiql-response');

  it('renders GraphiQL from the API itself and runs the default operation', async () => {
    const { page, trouble } = await openPage('/graphql');
    await expect.poll(() => page.locator('.graphiql-container').count(), { timeout: WAIT_MS }).toBeGreaterThan(0);
    await expect.poll(() => editorText(page, '.graphiql-query-editor'), { timeout: WAIT_MS }).toContain('mutation SubmitVideo');
    await page.locator('.graphiql-execute-button').click();
    // Several operations in the editor: GraphiQL asks which one to run.
    await page.getByRole('menuitem', { name: 'SubmitVideo' }).click();
    await expect.poll(() => resultText(page), { timeout: WAIT_MS }).toMatch(/"status": "PENDING"/);
    expect(await resultText(page)).toMatch(/"id": "vid_[0-9a-z]{26}"/);
    await page.close();
    expect(trouble).toEqual({ offLoopback: [], failed: [], errorStatus: [], consoleErrors: [] });
  });

  it('streams a subscription\'s updates in GraphiQL over the API\'s own WebSocket', async () => {
    const submitted = await fetch(`${api.origin}/api/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Long enough to be running while the page loads; the test cancels it.
      body: JSON.stringify({ kind: 'video', input: { duration_seconds: 120 } }),
    });
    expect(submitted.status).toBe(202);
    const { task_id: id } = (await submitted.json()) as { task_id: string };
    const query = `subscription { taskUpdated(id: "${id}") { id status progress } }`;
    const { page, trouble } = await openPage(`/graphql?query=${encodeURIComponent(query)}`);
    await expect.poll(() => editorText(page, '.graphiql-query-editor'), { timeout: WAIT_MS }).toContain('taskUpdated');
    await page.locator('.graphiql-execute-button').click();
    // The pane shows each state as it comes: the running task's progress moves, then the cancel lands.
    const progress = async () => Number(/"progress": (\d+)/.exec(await resultText(page))?.[1] ?? -1);
    await expect.poll(progress, { timeout: WAIT_MS }).toBeGreaterThan(0);
    const first = await progress();
    await expect.poll(progress, { timeout: WAIT_MS }).toBeGreaterThan(first);
    expect((await fetch(`${api.origin}/api/v1/tasks/${id}`, { method: 'DELETE' })).status).toBe(200);
    await expect.poll(() => resultText(page), { timeout: WAIT_MS }).toMatch(/"status": "CANCELLED"/);
    await page.close();
    expect(trouble).toEqual({ offLoopback: [], failed: [], errorStatus: [], consoleErrors: [] });
  });

  it.each([['/dashboard/'], ['/api/docs']])('loads %s with no failed request and no console error', async (path) => {
    const { page, trouble } = await openPage(path);
    await page.waitForLoadState('networkidle');
    expect(await page.title()).not.toBe('');
    await page.close();
    expect(trouble).toEqual({ offLoopback: [], failed: [], errorStatus: [], consoleErrors: [] });
  });
});

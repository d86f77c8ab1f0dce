import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { createTaskDriver, startApiProcess, type ApiProcess, type TaskDriver } from '@tasklane/client/testing';
import { CHROMIUM, hasChromium, launchBrowser, type Browser } from './browser.ts';
import { buildDashboard } from './build-dashboard.ts';
import { startWorkerProcess, type WorkerProcess } from './worker-process.ts';

const RESULTS_DIR = fileURLToPath(new URL('../../../test-results/', import.meta.url));
// A shared 2-core machine can be slow: wait long for conditions, never assert on timing.
const WAIT_MS = 90_000;

if (!hasChromium) console.warn(`dashboard e2e skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('the dashboard in Chromium', { timeout: 3 * WAIT_MS }, () => {
  let dist: string;
  let db: TestDatabase;
  let api: ApiProcess;
  let worker: WorkerProcess;
  let driver: TaskDriver;
  let browser: Browser;
  let page: Page;
  const pageLog: string[] = [];

  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), 'tasklane-dashboard-dist-'));
    await buildDashboard(dist);
    db = await createTestDatabase();
    api = await startApiProcess({ databaseUrl: db.url, env: { TASKLANE_DASHBOARD_DIR: dist, VIDEO_MAX_CONCURRENT: '2' } });
    worker = startWorkerProcess(db.url, { VIDEO_MAX_CONCURRENT: '2', WORKER_CONCURRENCY: '4' });
    driver = createTaskDriver(db.url);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('console', (message) => pageLog.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => pageLog.push(`pageerror: ${error.message}`));
    await page.goto(`${api.origin}/dashboard/`);
  }, 240_000);

  // A browser test that times out says little by itself: show what each process said.
  afterEach(({ task }) => {
    if (task.result?.state !== 'fail') return;
    console.error(`--- page\n${pageLog.join('\n')}\n--- api\n${api?.output().slice(-3000)}\n--- worker\n${worker?.output().slice(-3000)}`);
  });

  afterAll(async () => {
    await browser?.close();
    await driver?.close();
    await worker?.stop();
    await api?.stop();
    await db?.drop();
    if (dist) await rm(dist, { recursive: true, force: true });
  }, 60_000);

  /** Submits through the form and answers the new task's id (the newest row of that kind). */
  async function submitThroughForm(kind: string, input: string): Promise<string> {
    const before = await page.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-task-id')));
    const form = page.getByRole('region', { name: 'Submit a task' });
    await form.getByLabel('Kind').fill(kind);
    await form.getByLabel('Input (JSON)').fill(input);
    await form.getByRole('button', { name: 'Submit' }).click();
    const handle = await page.waitForFunction(
      (known) => Array.from(document.querySelectorAll('tbody tr')).map((row) => row.getAttribute('data-task-id')).find((id) => id && !known.includes(id)),
      before,
    );
    return (await handle.jsonValue()) as string;
  }

  const row = (id: string) => page.locator(`tbody tr[data-task-id="${id}"]`);

  it('shows the queue stats with each cap', async () => {
    await expect.poll(() => page.locator('[data-cap="*"] .cap-value').textContent(), { timeout: WAIT_MS }).toBe('0 / 10 processing');
    await expect.poll(() => page.locator('[data-cap="video"] .cap-value').textContent(), { timeout: WAIT_MS }).toBe('0 / 2 processing');
  });

  it('explains bad JSON in the form instead of submitting it', async () => {
    await page.getByLabel('Input (JSON)').fill('{"duration_seconds": ');
    await page.getByRole('button', { name: 'Submit' }).click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'not valid JSON' }).count(), { timeout: WAIT_MS }).toBe(1);
    expect(await page.getByLabel('Input (JSON)').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('tbody tr').count()).toBe(0);
  });

  it('follows a submitted video task: its progress bar moves and it completes', async () => {
    // Record every value the bar takes, so that a fast task cannot slip between two looks.
    await page.evaluate(() => {
      const seen: Record<string, number[]> = {};
      (window as unknown as { progressSeen: typeof seen }).progressSeen = seen;
      const record = (bar: Element) => {
        const id = bar.closest('tr')?.getAttribute('data-task-id');
        if (id) (seen[id] ??= []).push(Number(bar.getAttribute('aria-valuenow')));
      };
      new MutationObserver((mutations) => {
        for (const mutation of mutations) {
          if (mutation.type === 'attributes') record(mutation.target as Element);
          for (const node of Array.from(mutation.addedNodes)) if (node instanceof Element) node.querySelectorAll('[role=progressbar]').forEach(record);
        }
      }).observe(document.querySelector('tbody')!, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    });

    const id = await submitThroughForm('video', '{"duration_seconds": 3}');
    expect(id).toMatch(/^vid_/);
    await row(id).and(page.locator('[data-status="COMPLETED"]')).waitFor();

    const values = await page.evaluate((taskId) => (window as unknown as { progressSeen: Record<string, number[]> }).progressSeen[taskId] ?? [], id);
    expect(values.some((value) => value > 0 && value < 100)).toBe(true);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(values.at(-1)).toBe(100);
    expect(await row(id).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    expect(await row(id).getByRole('button', { name: `Cancel ${id}` }).isVisible()).toBe(false);
  });

  it('cancels a running task from its row', async () => {
    // Two minutes in 20 steps: it reports progress every 6 s and is still running when cancelled.
    const id = await submitThroughForm('video', '{"duration_seconds": 120}');
    await page.waitForFunction((taskId) => {
      const bar = document.querySelector(`tr[data-task-id="${taskId}"] [role=progressbar]`);
      return Number(bar?.getAttribute('aria-valuenow')) > 0;
    }, id);
    await expect.poll(() => page.locator('[data-cap="video"] .cap-value').textContent(), { timeout: WAIT_MS }).toBe('1 / 2 processing');
    await mkdir(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: join(RESULTS_DIR, 'dashboard.png'), fullPage: true });

    await page.getByRole('button', { name: `Cancel ${id}` }).click();
    await row(id).and(page.locator('[data-status="CANCELLED"]')).waitFor();
    expect(await row(id).locator('.status').textContent()).toBe('cancelled');
    expect(await row(id).getByRole('button', { name: `Cancel ${id}` }).isVisible()).toBe(false);
    await expect.poll(() => page.locator('dd[data-status="CANCELLED"]').textContent(), { timeout: WAIT_MS }).toBe('1');
  });

  it('shows "reconnecting…" while the API is down and catches up on what changed meanwhile', async () => {
    // No worker handles this kind: only the driver moves it, while the API is away.
    const id = await submitThroughForm('offline_job', '{}');
    await row(id).and(page.locator('[data-status="PENDING"]')).waitFor();

    await api.kill();
    await page.getByText('reconnecting…').waitFor({ state: 'visible' });
    const claimed = await driver.claim('offline_job');
    await driver.progress(claimed, 60, 'Finished while nobody was listening');
    await driver.complete(claimed, { ok: true });
    await api.restart();

    await page.getByText('reconnecting…').waitFor({ state: 'hidden' });
    await row(id).and(page.locator('[data-status="COMPLETED"]')).waitFor();
    expect(await row(id).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
  });

  it('filters the table by status and by kind', async () => {
    await page.getByLabel('Status').selectOption('CANCELLED');
    await expect.poll(() => page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status'))), { timeout: WAIT_MS }).toEqual(['CANCELLED']);
    await page.getByLabel('Status').selectOption('');
    const kind = page.getByRole('search').getByLabel('Kind');
    await kind.fill('offline_job');
    await kind.press('Enter'); // a text field reports its change on Enter or blur
    await expect.poll(() => page.locator('tbody tr td:nth-child(2)').allTextContents(), { timeout: WAIT_MS }).toEqual(['offline_job']);
  });
});

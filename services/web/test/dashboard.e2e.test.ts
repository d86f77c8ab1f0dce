import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTaskDriver, createTestDatabase, type TaskDriver, type TestDatabase } from '@tasklane/db/testing';
import { startApiProcess, type ApiProcess } from '@tasklane/client/testing';
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
    // Webhooks may go to a local port nobody listens on (the worker sends them): a delivery fails
    // once, and its retry is an hour away, so the page shows it as it stands.
    const webhooks = { WEBHOOK_ALLOW_PRIVATE: 'on', WEBHOOK_ALLOW_HTTP: 'on', WEBHOOK_RETRY_SCHEDULE: '1h' };
    api = await startApiProcess({ databaseUrl: db.url, env: { TASKLANE_DASHBOARD_DIR: dist, VIDEO_MAX_CONCURRENT: '2', ...webhooks } });
    worker = startWorkerProcess(db.url, { VIDEO_MAX_CONCURRENT: '2', WORKER_CONCURRENCY: '4', ...webhooks });
    driver = createTaskDriver(db.url);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('console', (message) => pageLog.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => pageLog.push(`pageerror: ${error.message}`));
    await page.goto(`${api.origin}/dashboard/`);
  }, 240_000);

  // A browser test that times out says little by itself: show what each process said.
  afterEach(async ({ task }) => {
    if (task.result?.state !== 'fail') return;
    const shown = await page.locator('main').innerText().catch(() => '(page gone)');
    console.error(`--- page\n${pageLog.join('\n')}\n--- shown\n${shown}\n--- api\n${api?.output().slice(-3000)}\n--- worker\n${worker?.output().slice(-3000)}`);
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
  async function submitThroughForm(kind: string, input: string, metadata = ''): Promise<string> {
    const before = await page.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-task-id')));
    const form = page.getByRole('region', { name: 'Submit a task' });
    await form.getByLabel('Kind').fill(kind);
    await form.getByLabel('Input (JSON)').fill(input);
    await form.getByLabel('Metadata').fill(metadata);
    await form.getByRole('button', { name: 'Submit' }).click();
    const handle = await page.waitForFunction(
      (known) => Array.from(document.querySelectorAll('tbody tr')).map((row) => row.getAttribute('data-task-id')).find((id) => id && !known.includes(id)),
      before,
    );
    return (await handle.jsonValue()) as string;
  }

  const row = (id: string) => page.locator(`tbody tr[data-task-id="${id}"]`);
  const taskPage = () => page.locator('#task-page');
  const historyStatuses = () => page.locator('#task-history li').evaluateAll((items) => items.map((item) => item.getAttribute('data-status')));

  /** Opens a task's page from its row, and waits until the page shows that task. */
  async function openTaskPage(id: string): Promise<void> {
    await row(id).getByRole('link', { name: id }).click();
    await page.getByRole('heading', { name: `Task ${id}` }).waitFor();
    await page.locator('#task-history li').first().waitFor();
  }

  async function setListFilter(label: 'Kind' | 'Metadata', value: string): Promise<void> {
    const field = page.getByRole('search').getByLabel(label);
    await field.fill(value);
    await field.press('Enter');
  }

  it('shows the queue stats with each cap', async () => {
    await expect.poll(() => page.locator('[data-cap="*"] .cap-value').textContent(), { timeout: WAIT_MS }).toBe('0 / 10 processing');
    await expect.poll(() => page.locator('[data-cap="video"] .cap-value').textContent(), { timeout: WAIT_MS }).toBe('0 / 2 processing');
    // Loaded and live, the page has logged no error (the reconnect test below causes some on purpose).
    expect(pageLog.filter((line) => line.startsWith('error') || line.startsWith('pageerror'))).toEqual([]);
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
    await expect.poll(() => page.locator('tbody tr td:nth-child(3)').allTextContents(), { timeout: WAIT_MS }).toEqual(['offline_job']);
    await setListFilter('Kind', '');
    // Wait for the unfiltered list, so the next test's "new row" is not an old one reappearing.
    await page.locator('tbody tr[data-status="CANCELLED"]').waitFor();
  });

  it('shows a task page whose history grows while the worker runs the task', async () => {
    // Eight seconds in 20 steps: still running when the page opens, even on a loaded machine.
    const id = await submitThroughForm('video', '{"duration_seconds": 8}', 'customer=acme, run=history');
    await openTaskPage(id);
    expect(await page.evaluate(() => location.hash)).toBe(`#/tasks/${id}`);
    const first = await page.locator('#task-history li').count();
    await taskPage().and(page.locator('[data-status="COMPLETED"]')).waitFor();
    await page.locator('#task-history li[data-status="COMPLETED"]').waitFor();

    const entries = await page.locator('#task-history li').evaluateAll((items) =>
      items.map((item) => ({ version: Number(item.getAttribute('data-version')), status: item.getAttribute('data-status'), text: item.textContent ?? '' })),
    );
    expect(entries.length).toBeGreaterThan(first);
    expect(entries.map((entry) => entry.version)).toEqual([...entries.map((entry) => entry.version)].sort((a, b) => a - b));
    expect(new Set(entries.map((entry) => entry.version)).size).toBe(entries.length);
    expect(entries.some((entry) => entry.status === 'PROCESSING')).toBe(true);
    expect(entries.at(-1)).toMatchObject({ status: 'COMPLETED' });
    expect(entries.at(-1)!.text).toContain('100%');

    const field = (name: string) => taskPage().locator(`[data-field="${name}"]`).textContent();
    expect(await field('status')).toBe('completed');
    expect(await field('attempts')).toBe('1 / 3');
    expect(await field('metadata')).toBe('customer=acme, run=history');
    expect(JSON.parse((await field('input'))!)).toEqual({ duration_seconds: 8 });
    expect(await field('result')).not.toBe('—');
    expect(await field('started')).not.toBe('—');
    expect(await field('finished')).not.toBe('—');
    expect(await taskPage().getByRole('button', { name: 'Retry' }).isVisible()).toBe(false);
    expect(await taskPage().getByRole('button', { name: 'Cancel' }).isVisible()).toBe(false);
  });

  it('retries a failed task from its page and shows the new task linked to it', async () => {
    // No worker handles this kind: the driver fails it.
    const id = await submitThroughForm('flaky_job', '{"n": 1}', 'customer=initech');
    await driver.fail(await driver.claim('flaky_job'), { type: 'Upstream', message: 'The upstream service answered 503', retryable: false });
    await openTaskPage(id);
    await taskPage().and(page.locator('[data-status="FAILED"]')).waitFor();
    expect(await taskPage().locator('[data-field="error"]').textContent()).toBe('Upstream: The upstream service answered 503');

    await taskPage().getByRole('button', { name: 'Retry' }).click();
    const retried = await page.waitForFunction((old) => {
      const match = /^#\/tasks\/(.+)$/.exec(location.hash);
      return match && match[1] !== old ? match[1] : undefined;
    }, id);
    const newId = (await retried.jsonValue()) as string;
    await page.getByRole('heading', { name: `Task ${newId}` }).waitFor();
    await taskPage().and(page.locator('[data-status="PENDING"]')).waitFor();
    expect(await taskPage().locator('[data-field="retried-from"]').textContent()).toBe(id);
    expect(await taskPage().locator('[data-field="metadata"]').textContent()).toBe('customer=initech');
    await row(newId).and(page.locator('[data-status="PENDING"]')).waitFor();
    expect(await row(id).getAttribute('data-status')).toBe('FAILED');

    // The new task is pending: the page offers Cancel, and the history records it.
    await taskPage().getByRole('button', { name: 'Cancel' }).click();
    await taskPage().and(page.locator('[data-status="CANCELLED"]')).waitFor();
    await expect.poll(historyStatuses, { timeout: WAIT_MS }).toEqual(['PENDING', 'CANCELLED']);

    // The link leads back to the original, which is left as it was.
    await taskPage().locator('[data-field="retried-from"]').getByRole('link').click();
    await page.getByRole('heading', { name: `Task ${id}` }).waitFor();
    await taskPage().and(page.locator('[data-status="FAILED"]')).waitFor();
    await page.getByRole('link', { name: '← All tasks' }).click();
    await taskPage().waitFor({ state: 'hidden' });
  });

  it('lists both attempts of a task that failed once and then completed, with their worker and error', async () => {
    // No worker handles this kind: the driver fails the first attempt (retryable) and completes the second.
    const id = await submitThroughForm('twice_job', '{}');
    await driver.fail(await driver.claim('twice_job'), { type: 'Upstream', message: 'The upstream service answered 503', retryable: true });
    await driver.complete(await driver.claim('twice_job'), { ok: true });
    await openTaskPage(id);
    await taskPage().and(page.locator('[data-status="COMPLETED"]')).waitFor();

    const attempts = page.locator('#task-attempts li[data-attempt]');
    await expect.poll(() => attempts.evaluateAll((items) => items.map((item) => item.getAttribute('data-outcome'))), { timeout: WAIT_MS }).toEqual([
      'FAILED',
      'COMPLETED',
    ]);
    const part = (n: number, key: string) => attempts.nth(n).locator(`[data-part="${key}"]`).textContent();
    expect(await attempts.nth(0).getAttribute('data-attempt')).toBe('1');
    expect(await part(0, 'error')).toBe('Upstream: The upstream service answered 503');
    expect(await part(0, 'worker')).toMatch(/^test-driver-\d+$/);
    expect(await attempts.nth(1).getAttribute('data-attempt')).toBe('2');
    expect(await part(1, 'error')).toBe('—');
    expect(await part(1, 'ended')).not.toBe('running');
    expect(await page.locator('#task-deliveries li').textContent()).toBe('None.');
  });

  it("lists a task's webhook delivery on its page", async () => {
    const response = await fetch(`${api.origin}/api/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'hook_job', webhook: { url: 'http://127.0.0.1:9/hooks/tasklane?token=secret' } }),
    });
    expect(response.status).toBe(202);
    const id = ((await response.json()) as { task_id: string }).task_id;
    await driver.complete(await driver.claim('hook_job'), { ok: true });
    await page.evaluate((taskId) => (location.hash = `#/tasks/${encodeURIComponent(taskId)}`), id);
    await page.getByRole('heading', { name: `Task ${id}` }).waitFor();

    const delivery = page.locator('#task-deliveries li[data-delivery]');
    await delivery.waitFor();
    expect(await delivery.count()).toBe(1);
    const part = (key: string) => delivery.locator(`[data-part="${key}"]`).textContent();
    expect(await part('event')).toBe('completed');
    // Only the host: the path and query may hold a token.
    expect(await part('host')).toBe('127.0.0.1:9');
    // Nobody listens there: once tried, the page shows the attempt, with no response, and its retry.
    await expect.poll(() => part('attempts'), { timeout: WAIT_MS }).toBe('1 attempt');
    expect(await part('response')).toBe('no response');
    expect(await part('state')).toBe('waiting');
    expect(await part('next')).toMatch(/^next /);
    await page.getByRole('link', { name: '← All tasks' }).click();
    await taskPage().waitFor({ state: 'hidden' });
  });

  it('cancels two selected tasks at once and leaves the others alone', async () => {
    const first = await submitThroughForm('bulk_job', '{}');
    const second = await submitThroughForm('bulk_job', '{}');
    const untouched = await submitThroughForm('bulk_job', '{}');
    await page.getByRole('checkbox', { name: `Select ${first}` }).check();
    await page.getByRole('checkbox', { name: `Select ${second}` }).check();
    await page.getByRole('button', { name: 'Cancel selected' }).click();

    await page.getByRole('status').filter({ hasText: 'Cancelled 2 of 2.' }).waitFor();
    await row(first).and(page.locator('[data-status="CANCELLED"]')).waitFor();
    await row(second).and(page.locator('[data-status="CANCELLED"]')).waitFor();
    expect(await row(untouched).getAttribute('data-status')).toBe('PENDING');

    // Retrying the same two makes two new pending tasks; the third, still pending, is refused by name.
    await page.getByRole('checkbox', { name: `Select ${untouched}` }).check();
    await page.getByRole('button', { name: 'Retry selected' }).click();
    const result = page.getByRole('status').filter({ hasText: 'Retried 2 of 3.' });
    await result.waitFor();
    expect(await result.textContent()).toContain(untouched);
    await expect.poll(() => page.locator('tbody tr[data-status="PENDING"] td:nth-child(3)').filter({ hasText: 'bulk_job' }).count(), { timeout: WAIT_MS }).toBe(3);
  });

  it('filters by metadata, selects every visible task and cancels only those', async () => {
    const acme = [await submitThroughForm('meta_job', '{}', 'customer=acme, tier=gold'), await submitThroughForm('meta_job', '{}', 'customer=acme')];
    const globex = await submitThroughForm('meta_job', '{}', 'customer=globex');
    await setListFilter('Kind', 'meta_job');
    await setListFilter('Metadata', 'customer=acme');
    await expect.poll(() => page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task-id'))), { timeout: WAIT_MS }).toEqual([...acme].reverse());
    expect(await row(acme[0]!).locator('.metadata').textContent()).toBe('customer=acme, tier=gold');

    await page.getByRole('checkbox', { name: 'Select all visible tasks' }).check();
    await page.getByRole('button', { name: 'Cancel selected' }).click();
    await page.getByRole('status').filter({ hasText: 'Cancelled 2 of 2.' }).waitFor();

    await setListFilter('Metadata', 'customer');
    await page.getByRole('alert').filter({ hasText: 'is not key=value' }).waitFor();
    await setListFilter('Metadata', '');
    await row(globex).waitFor();
    expect(await row(globex).getAttribute('data-status')).toBe('PENDING');
    for (const id of acme) expect(await row(id).getAttribute('data-status')).toBe('CANCELLED');
  });

  it('pauses a kind from the queue panel, holds its new task pending, and resumes it', async () => {
    await setListFilter('Kind', 'image');
    const image = page.getByRole('list', { name: 'Kinds' }).locator('li[data-kind="image"]');
    await image.getByRole('button', { name: 'Pause image' }).click();
    await page.locator('li[data-kind="image"][data-paused="true"]').waitFor();
    expect(await image.locator('.kind-state').textContent()).toBe('paused');
    // Only the button that applies: a paused kind offers Resume, not Pause.
    expect(await image.getByRole('button', { name: 'Pause image' }).count()).toBe(0);

    const id = await submitThroughForm('image', '{"duration_seconds": 1}');
    // The list shows a pending task's place in a few words (queueSummary), which names the pause.
    await expect.poll(() => row(id).locator('.message').textContent(), { timeout: WAIT_MS }).toBe('paused: 0 ahead');
    expect(await row(id).getAttribute('data-status')).toBe('PENDING');

    await image.getByRole('button', { name: 'Resume image' }).click();
    await page.locator('li[data-kind="image"][data-paused="false"]').waitFor();
    await row(id).and(page.locator('[data-status="COMPLETED"]')).waitFor();
    expect(await image.getByRole('button', { name: 'Pause image' }).isVisible()).toBe(true);
  });

  it('shows a pending task\'s place in the list and on its page, counting down as the tasks ahead start', async () => {
    await setListFilter('Kind', '');
    // No worker handles this kind: the driver claims, one at a time.
    const ids = [await submitThroughForm('queue_job', '{}'), await submitThroughForm('queue_job', '{}'), await submitThroughForm('queue_job', '{}')];
    const last = ids[2]!;
    const queued = () => row(last).locator('.message').textContent();
    await expect.poll(queued, { timeout: WAIT_MS }).toMatch(/^queued: 2 ahead/);

    await openTaskPage(last);
    const queueField = () => taskPage().locator('[data-field="queue"]').textContent();
    await expect.poll(queueField, { timeout: WAIT_MS }).toMatch(/^queued: 2 ahead/);
    await driver.claim('queue_job');
    // Pushed to the page's taskUpdated and to the list's tasksUpdated: the same version, a new place.
    await expect.poll(queueField, { timeout: WAIT_MS }).toMatch(/^queued: 1 ahead/);
    await expect.poll(queued, { timeout: WAIT_MS }).toMatch(/^queued: 1 ahead/);
    expect(await historyStatuses()).toEqual(['PENDING']);

    await page.getByRole('link', { name: '← All tasks' }).click();
    await taskPage().waitFor({ state: 'hidden' });
    await driver.claim('queue_job');
    await expect.poll(queued, { timeout: WAIT_MS }).toMatch(/^queued: 0 ahead/);
    await driver.claim('queue_job');
    await row(last).and(page.locator('[data-status="PROCESSING"]')).waitFor();
    expect(await queued()).not.toMatch(/^queued/);
  });
});

import { createTasklaneClient, TasklaneClientError, type QueueStats, type Task, type TaskStatus } from '@tasklane/client';
import { askForApiKey, isUnauthenticated, storedApiKey } from './api-key.ts';
import { describeOutcome, runForEach } from './bulk-actions.ts';
import { byId } from './dom.ts';
import { startLiveFeed } from './live-feed.ts';
import { parseMetadata } from './parse-metadata.ts';
import { renderQueueStats } from './queue-stats-view.ts';
import { wireSubmitForm } from './submit-form.ts';
import { TaskStore, type TaskFilter } from './task-store.ts';
import { createTaskPage, taskIdFromHash } from './task-page.ts';
import { createTaskTable } from './task-table.ts';

/** Rows shown at most; the list read asks for as many, newest first. */
const PAGE_SIZE = 100;
/** Stats follow task changes, but at most this often, plus a slow refresh for ages and idle periods. */
const STATS_THROTTLE_MS = 1000;
const STATS_REFRESH_MS = 5000;

// The page is served by the API it talks to, so the API's origin is the page's origin.
const client = createTasklaneClient({ url: `${location.origin}/graphql`, apiKey: storedApiKey() });
const store = new TaskStore();
const filter: TaskFilter = { status: '', kind: '', metadata: {} };
const notice = byId('notice');
const connection = byId('connection');
const bulkCancel = byId<HTMLButtonElement>('bulk-cancel');
const bulkRetry = byId<HTMLButtonElement>('bulk-retry');
const bulkResult = byId('bulk-result');
const table = createTaskTable({
  body: byId<HTMLTableElement>('tasks').tBodies[0]!,
  empty: byId('empty'),
  onCancel: async (task) => {
    try {
      const { task: cancelled } = await client.cancel(task.id);
      applyTask(cancelled);
    } catch (error) {
      showError(error);
    }
  },
  selectAll: byId<HTMLInputElement>('select-all'),
  onSelect: (selected) => {
    bulkCancel.disabled = selected.length === 0;
    bulkRetry.disabled = selected.length === 0;
  },
});

function describeError(error: unknown): string {
  if (error instanceof TasklaneClientError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Sends a refused key to the key form; shows anything else above the table. Answers whether it was a refusal. */
function showError(error: unknown): boolean {
  if (isUnauthenticated(error)) {
    askForApiKey();
    return true;
  }
  notice.textContent = describeError(error);
  return false;
}

function render(): void {
  table.render(store.visible(filter, PAGE_SIZE));
}

function applyTask(task: Task): void {
  if (store.apply(task)) {
    render();
    scheduleStats();
  }
}

/** Runs one action per selected task and says how it went; the live feed brings the new states. */
async function bulk(button: HTMLButtonElement, verb: string, action: (task: Task) => Promise<void>): Promise<void> {
  const selected = table.selected();
  if (selected.length === 0) return;
  button.disabled = true;
  bulkResult.textContent = '';
  const outcome = await runForEach(selected, action);
  const refused = outcome.failed.find((failure) => isUnauthenticated(failure.error));
  if (refused) showError(refused.error);
  bulkResult.textContent = describeOutcome(verb, selected.length, outcome, describeError);
  button.disabled = table.selected().length === 0;
}

bulkCancel.addEventListener('click', () =>
  void bulk(bulkCancel, 'Cancelled', async (task) => applyTask((await client.cancel(task.id)).task)),
);
bulkRetry.addEventListener('click', () =>
  void bulk(bulkRetry, 'Retried', async (task) => applyTask(await client.retry(task.id))),
);

/** Pauses or resumes a kind, then shows the stats as they are after it. A refusal (403 for a key that is not an admin's) goes to the notice. */
async function setKindPaused(kind: string, paused: boolean): Promise<void> {
  try {
    if (paused) await client.pauseKind(kind);
    else await client.resumeKind(kind);
    notice.textContent = '';
  } catch (error) {
    showError(error);
  }
  await refreshStats();
}
const kindActions = { pause: (kind: string) => void setKindPaused(kind, true), resume: (kind: string) => void setKindPaused(kind, false) };

let statsTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleStats(): void {
  statsTimer ??= setTimeout(() => {
    statsTimer = undefined;
    void refreshStats();
  }, STATS_THROTTLE_MS);
}

let statsReads = 0;
async function refreshStats(): Promise<void> {
  // Only the latest read may render: one sent before a pause could answer after it.
  const mine = ++statsReads;
  let stats: QueueStats;
  try {
    stats = await client.queueStats();
  } catch (error) {
    if (isUnauthenticated(error)) askForApiKey();
    return; // the list read reports other failures; a missed stats refresh is retried shortly
  }
  if (mine === statsReads) renderQueueStats(byId('queue-stats'), stats, kindActions);
}

let reloads = 0;
async function reload(): Promise<void> {
  // Only the latest reload may replace the rows: an older answer could lack newer tasks.
  const mine = ++reloads;
  store.beginReload();
  void refreshStats();
  try {
    const page = await client.listPage({
      order: 'DESC',
      pageSize: PAGE_SIZE,
      status: filter.status || undefined,
      kind: filter.kind || undefined,
      metadata: Object.keys(filter.metadata).length > 0 ? filter.metadata : undefined,
    });
    if (mine !== reloads) return;
    store.finishReload(page.tasks);
    notice.textContent = '';
    render();
  } catch (error) {
    if (mine === reloads) showError(error);
  }
}

let stopFeed: (() => void) | undefined;
function follow(): void {
  const previous = stopFeed;
  // Start the new subscription before ending the old one, so the shared socket stays open.
  stopFeed = startLiveFeed({
    client,
    kind: filter.kind,
    onTask: applyTask,
    reload: () => void reload(),
    onConnected: (connected) => (connection.hidden = connected),
    onFatal: (error) => isUnauthenticated(error) && showError(error),
  });
  previous?.();
}

const filters = byId<HTMLFormElement>('filters');
filters.addEventListener('submit', (event) => event.preventDefault());
filters.addEventListener('change', () => {
  filter.status = byId<HTMLSelectElement>('filter-status').value as TaskStatus | '';
  const metadataField = byId<HTMLInputElement>('filter-metadata');
  const metadata = parseMetadata(metadataField.value);
  if (!metadata.ok) {
    metadataField.setAttribute('aria-invalid', 'true');
    notice.textContent = metadata.message;
    return;
  }
  metadataField.removeAttribute('aria-invalid');
  filter.metadata = metadata.value;
  const kind = byId<HTMLInputElement>('filter-kind').value.trim();
  const kindChanged = kind !== filter.kind;
  filter.kind = kind;
  render();
  // The subscription is per kind; a status filter only needs a fresh list (statuses change, kinds do not).
  if (kindChanged) follow();
  else void reload();
});

wireSubmitForm(async (input) => {
  const task = await client.submit(input);
  applyTask(task);
  return task;
}, (error) => {
  if (!isUnauthenticated(error)) return describeError(error);
  askForApiKey();
  return 'An API key is required.';
});

const taskPage = createTaskPage({ client, onTask: applyTask, onAuthError: (error) => isUnauthenticated(error) && showError(error), describeError });
function route(): void {
  const id = taskIdFromHash(location.hash);
  if (id) taskPage.open(id);
  else taskPage.close();
}
window.addEventListener('hashchange', route);
route();

follow();
setInterval(() => void refreshStats(), STATS_REFRESH_MS);

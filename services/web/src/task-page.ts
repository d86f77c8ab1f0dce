import { isNewerState, isTerminal, queueSummary, type Task, type TasklaneClient } from '@tasklane/client';
import { byId, el } from './dom.ts';
import { formatMetadata } from './parse-metadata.ts';
import { createTaskDetails } from './task-details.ts';

export interface TaskPageOptions {
  client: TasklaneClient;
  /** Every version the page sees, so the list stays in step with it. */
  onTask: (task: Task) => void;
  /** Answers whether the error was a refused key (already handled). */
  onAuthError: (error: unknown) => boolean;
  describeError: (error: unknown) => string;
}

/** The hash route of one task's page; the API serves one HTML file, so routes live in the hash. */
export function taskHref(id: string): string {
  return `#/tasks/${encodeURIComponent(id)}`;
}

export function taskIdFromHash(hash: string): string | undefined {
  const match = /^#\/tasks\/([^/]+)$/.exec(hash);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

/** How often the page reads a task's deliveries again while one is waiting to be sent. */
const DELIVERY_POLL_MS = 3000;

const json = (value: unknown) => (value === null || value === undefined ? '—' : JSON.stringify(value, null, 2));
const time = (value: string | null | undefined) => (value ? new Date(value).toLocaleString() : '—');

/**
 * One task's page: its fields, Retry or Cancel as its status allows, and every version that
 * `taskUpdated` delivers, appended as it arrives. The watch starts with the current state and ends
 * with the terminal one, so a finished task shows its last version and nothing more arrives.
 */
export function createTaskPage({ client, onTask, onAuthError, describeError }: TaskPageOptions) {
  const section = byId('task-page');
  const heading = byId('task-heading');
  const fields = byId('task-fields');
  const history = byId<HTMLOListElement>('task-history');
  const notice = byId('task-notice');
  const retry = byId<HTMLButtonElement>('task-retry');
  const cancel = byId<HTMLButtonElement>('task-cancel');
  const details = createTaskDetails();
  let detailsTimer: ReturnType<typeof setTimeout> | undefined;
  let controller: AbortController | undefined;
  let current: Task | undefined;

  const fail = (error: unknown) => {
    if (!onAuthError(error)) notice.textContent = describeError(error);
  };

  const field = (name: string, key: string, value: Node | string) =>
    [el('dt', {}, name), el('dd', { 'data-field': key }, value)];

  // Attempts and deliveries change only when the status or the attempt count does (a delivery is
  // queued with the change it reports): read them again then, not on every progress. A waiting
  // delivery is sent by the server on its own, so while one waits the page reads again.
  const refreshDetails = (task: Task, signal: AbortSignal | undefined) => {
    clearTimeout(detailsTimer);
    const render = details.begin();
    client.details(task.id, { signal }).then(
      (read) => {
        if (render(read) && !signal?.aborted) detailsTimer = setTimeout(() => refreshDetails(task, signal), DELIVERY_POLL_MS);
      },
      (error: unknown) => {
        if (!signal?.aborted) fail(error);
      },
    );
  };

  const show = (task: Task) => {
    // A queue push repeats the version with a moved place: the fields change, the history does not.
    if (!isNewerState(current, task)) return;
    const newVersion = !current || task.version > current.version;
    if (task.id !== current?.id || task.status !== current.status || task.attempts !== current.attempts) refreshDetails(task, controller?.signal);
    current = task;
    onTask(task);
    section.dataset['status'] = task.status;
    heading.textContent = `Task ${task.id}`;
    const retriedFrom = task.retriedFrom ? el('a', { href: taskHref(task.retriedFrom) }, task.retriedFrom) : '—';
    fields.replaceChildren(
      ...field('Kind', 'kind', task.kind),
      ...field('Status', 'status', task.status.toLowerCase()),
      ...field('Progress', 'progress', `${task.progress}%`),
      ...field('Queue', 'queue', queueSummary(task) ?? '—'),
      ...field('Attempts', 'attempts', `${task.attempts} / ${task.maxAttempts}`),
      ...field('Metadata', 'metadata', formatMetadata(task.metadata) || '—'),
      ...field('Created', 'created', time(task.createdAt)),
      ...field('Started', 'started', time(task.startedAt)),
      ...field('Finished', 'finished', time(task.finishedAt)),
      ...field('Retried from', 'retried-from', retriedFrom),
      ...field('Input', 'input', el('pre', {}, json(task.input))),
      ...field('Result', 'result', el('pre', {}, json(task.result))),
      ...field('Error', 'error', task.error ? `${task.error.type}: ${task.error.message}` : '—'),
    );
    retry.hidden = task.status !== 'FAILED' && task.status !== 'CANCELLED';
    cancel.hidden = isTerminal(task);
    if (!newVersion) return;
    history.append(
      el(
        'li',
        { 'data-version': String(task.version), 'data-status': task.status },
        el('time', { datetime: task.updatedAt }, new Date(task.updatedAt).toLocaleTimeString()),
        ` v${task.version} ${task.status.toLowerCase()} ${task.progress}%`,
        task.message ? ` — ${task.message}` : '',
      ),
    );
  };

  const follow = async (id: string, signal: AbortSignal) => {
    try {
      // Read first so an unknown id is explained; the watch then repeats this version, which `show` drops.
      show(await client.get(id, { signal }));
      for await (const task of client.watch(id, { signal })) show(task);
    } catch (error) {
      if (!signal.aborted) fail(error);
    }
  };

  const act = async (button: HTMLButtonElement, action: (task: Task) => Promise<void>) => {
    if (!current) return;
    button.disabled = true;
    notice.textContent = '';
    try {
      await action(current);
    } catch (error) {
      fail(error);
    } finally {
      button.disabled = false;
    }
  };

  retry.addEventListener('click', () =>
    void act(retry, async (task) => {
      const created = await client.retry(task.id);
      onTask(created);
      location.hash = taskHref(created.id);
    }),
  );
  cancel.addEventListener('click', () =>
    void act(cancel, async (task) => {
      show((await client.cancel(task.id)).task);
    }),
  );

  return {
    open(id: string) {
      clearTimeout(detailsTimer);
      controller?.abort();
      controller = new AbortController();
      current = undefined;
      heading.textContent = `Task ${id}`;
      fields.replaceChildren();
      details.clear();
      history.replaceChildren();
      notice.textContent = '';
      retry.hidden = true;
      cancel.hidden = true;
      section.hidden = false;
      void follow(id, controller.signal);
    },
    close() {
      clearTimeout(detailsTimer);
      controller?.abort();
      controller = undefined;
      section.hidden = true;
    },
  };
}


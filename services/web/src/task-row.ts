import { isTerminal, queueSummary, type Task } from '@tasklane/client';
import { el } from './dom.ts';
import { formatMetadata } from './parse-metadata.ts';
import { taskHref } from './task-page.ts';

/** One table row, built once per task and patched as the task changes. */
export interface TaskRow {
  element: HTMLTableRowElement;
  /** The row's selection box; the table owns what selection means. */
  checkbox: HTMLInputElement;
  update(task: Task): void;
}

/**
 * Patching in place, rather than rebuilding, keeps the progress bar the same element while it
 * moves (assistive tech follows it) and keeps a Cancel click from landing on a replaced button.
 */
export function createTaskRow(task: Task, onCancel: (task: Task) => Promise<void>): TaskRow {
  const status = el('span', { class: 'status' });
  const fill = el('div', { class: 'progress-fill' });
  const bar = el('div', { class: 'progress', role: 'progressbar', 'aria-label': `Progress of ${task.id}`, 'aria-valuemin': '0', 'aria-valuemax': '100' }, fill);
  const percent = el('span', { class: 'percent' });
  const message = el('td', { class: 'message' });
  const checkbox = el('input', { type: 'checkbox', class: 'select', 'aria-label': `Select ${task.id}` });
  const metadata = el('td', { class: 'metadata' });
  const cancel = el('button', { type: 'button', class: 'cancel', 'aria-label': `Cancel ${task.id}` }, 'Cancel');
  const element = el(
    'tr',
    { 'data-task-id': task.id },
    el('td', {}, checkbox),
    el('td', {}, el('a', { href: taskHref(task.id) }, el('code', {}, task.id))),
    el('td', {}, task.kind),
    el('td', {}, status),
    el('td', {}, el('div', { class: 'progress-cell' }, bar, percent)),
    message,
    metadata,
    el('td', {}, el('time', { datetime: task.createdAt }, new Date(task.createdAt).toLocaleTimeString())),
    el('td', {}, cancel),
  );
  let current = task;
  cancel.addEventListener('click', () => {
    cancel.disabled = true;
    // On success the task turns CANCELLED and the button hides; on failure it can be tried again.
    void onCancel(current).finally(() => (cancel.disabled = false));
  });

  const update = (next: Task) => {
    current = next;
    const name = next.status.toLowerCase();
    element.dataset['status'] = next.status;
    status.className = `status ${name}`;
    status.textContent = name;
    fill.className = `progress-fill ${name}`;
    fill.style.width = `${next.progress}%`;
    bar.setAttribute('aria-valuenow', String(next.progress));
    bar.setAttribute('aria-valuetext', `${next.progress}%`);
    percent.textContent = `${next.progress}%`;
    // A queued task's place ("queued: 3 ahead, ~40 s") says more than its message, as in `tasklane watch`.
    message.textContent = queueSummary(next) ?? (next.error ? `${next.error.type}: ${next.error.message}` : (next.message ?? ''));
    metadata.textContent = formatMetadata(next.metadata);
    cancel.hidden = isTerminal(next);
  };
  update(task);
  return { element, checkbox, update };
}

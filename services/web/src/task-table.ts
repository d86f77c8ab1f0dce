import type { Task } from '@tasklane/client';
import { createTaskRow, type TaskRow } from './task-row.ts';

export interface TaskTableOptions {
  body: HTMLTableSectionElement;
  empty: HTMLElement;
  onCancel: (task: Task) => Promise<void>;
}

/** The task rows, keyed by id: rows are reused, patched when their version changes, and reordered in place. */
export function createTaskTable({ body, empty, onCancel }: TaskTableOptions) {
  const rows = new Map<string, { row: TaskRow; version: number }>();

  const render = (tasks: readonly Task[]) => {
    const wanted = new Set(tasks.map((task) => task.id));
    for (const [id, entry] of rows) {
      if (wanted.has(id)) continue;
      entry.row.element.remove();
      rows.delete(id);
    }
    let previous: HTMLTableRowElement | undefined;
    for (const task of tasks) {
      let entry = rows.get(task.id);
      if (!entry) {
        entry = { row: createTaskRow(task, onCancel), version: task.version };
        rows.set(task.id, entry);
      } else if (entry.version !== task.version) {
        entry.row.update(task);
        entry.version = task.version;
      }
      // Move only rows that are out of place, so unchanged rows keep focus and hover.
      const expected = previous ? previous.nextSibling : body.firstChild;
      if (expected !== entry.row.element) body.insertBefore(entry.row.element, expected);
      previous = entry.row.element;
    }
    empty.hidden = tasks.length > 0;
  };

  return { render };
}

import type { Task } from '@tasklane/client';
import { createTaskRow, type TaskRow } from './task-row.ts';

export interface TaskTableOptions {
  body: HTMLTableSectionElement;
  empty: HTMLElement;
  onCancel: (task: Task) => Promise<void>;
  /** The header box that selects every visible row. */
  selectAll: HTMLInputElement;
  /** Called whenever the selection changes, with the selected tasks. */
  onSelect: (selected: Task[]) => void;
}

/**
 * The task rows, keyed by id: rows are reused, patched when the store holds a new state of their
 * task (a new version, or a queue push of the same one), and reordered in place.
 */
export function createTaskTable({ body, empty, onCancel, selectAll, onSelect }: TaskTableOptions) {
  const rows = new Map<string, { row: TaskRow; task: Task }>();

  // Only visible rows can be selected: a row that leaves the view (filtered out) leaves the selection.
  const selected = () => [...rows.values()].filter((entry) => entry.row.checkbox.checked).map((entry) => entry.task);
  const selectionChanged = () => {
    const count = selected().length;
    selectAll.checked = count > 0 && count === rows.size;
    selectAll.indeterminate = count > 0 && count < rows.size;
    onSelect(selected());
  };
  selectAll.addEventListener('change', () => {
    for (const entry of rows.values()) entry.row.checkbox.checked = selectAll.checked;
    selectionChanged();
  });

  const render = (tasks: readonly Task[]) => {
    const wanted = new Set(tasks.map((task) => task.id));
    let dropped = false;
    for (const [id, entry] of rows) {
      if (wanted.has(id)) continue;
      dropped ||= entry.row.checkbox.checked;
      entry.row.element.remove();
      rows.delete(id);
    }
    let previous: HTMLTableRowElement | undefined;
    for (const task of tasks) {
      let entry = rows.get(task.id);
      if (!entry) {
        entry = { row: createTaskRow(task, onCancel), task };
        entry.row.checkbox.addEventListener('change', selectionChanged);
        rows.set(task.id, entry);
      } else if (entry.task !== task) {
        entry.row.update(task);
        entry.task = task;
      }
      // Move only rows that are out of place, so unchanged rows keep focus and hover.
      const expected = previous ? previous.nextSibling : body.firstChild;
      if (expected !== entry.row.element) body.insertBefore(entry.row.element, expected);
      previous = entry.row.element;
    }
    empty.hidden = tasks.length > 0;
    if (dropped) selectionChanged();
    else if (selectAll.checked && rows.size > 0 && selected().length < rows.size) selectionChanged();
  };

  return { render, selected };
}

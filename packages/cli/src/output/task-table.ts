import type { Task } from '@tasklane/client';
import { statusLabel } from './task-summary.ts';

const COLUMNS: { title: string; value: (task: Task) => string; alignRight?: boolean }[] = [
  { title: 'ID', value: (t) => t.id },
  { title: 'KIND', value: (t) => t.kind },
  { title: 'STATUS', value: statusLabel },
  { title: 'PROGRESS', value: (t) => `${t.progress}%`, alignRight: true },
  { title: 'CREATED', value: (t) => t.createdAt.replace(/\.\d+Z$/, 'Z') },
  { title: 'MESSAGE', value: (t) => (t.error ? `${t.error.type}: ${t.error.message}` : (t.message ?? '')) },
];

/** `tasklane list`: a plain-text table, one task a row, columns padded to their widest cell. */
export function formatTaskTable(tasks: readonly Task[]): string {
  if (tasks.length === 0) return 'No tasks.';
  const cells = tasks.map((task) => COLUMNS.map((column) => oneLine(column.value(task))));
  const widths = COLUMNS.map((column, i) => Math.max(column.title.length, ...cells.map((row) => row[i]!.length)));
  const format = (row: string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : COLUMNS[i]!.alignRight ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [format(COLUMNS.map((c) => c.title)), ...cells.map(format)].join('\n');
}

/** A message with a newline would break the row. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

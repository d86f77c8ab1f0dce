import type { Task } from '@tasklane/client';
import { statusLabel } from './task-summary.ts';

/** `tasklane get`: one task as aligned "field  value" lines, leaving out what is empty. */
export function formatTaskDetails(task: Task): string {
  const rows: [string, string | undefined][] = [
    ['id', task.id],
    ['kind', task.kind],
    ['service', task.service ?? undefined],
    ['status', statusLabel(task)],
    ['progress', `${task.progress}%`],
    ['message', task.message ?? undefined],
    ['attempts', `${task.attempts}/${task.maxAttempts}`],
    ['priority', String(task.priority)],
    ['created', task.createdAt],
    ['updated', task.updatedAt],
    ['started', task.startedAt ?? undefined],
    ['finished', task.finishedAt ?? undefined],
    ['input', JSON.stringify(task.input)],
    ['result', task.result === null ? undefined : JSON.stringify(task.result)],
    ['error', task.error ? `${task.error.type}: ${task.error.message}` : undefined],
  ];
  const shown = rows.filter((row): row is [string, string] => row[1] !== undefined);
  const width = Math.max(...shown.map(([name]) => name.length));
  return shown.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n');
}

import { queueSummary, type Task } from '@tasklane/client';
import { statusLabel } from './task-summary.ts';

const BAR_WIDTH = 24;

/** `[██████░░░░░░]` for a percentage. */
export function progressBar(percent: number, width = BAR_WIDTH): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/**
 * The one line `watch` shows: id, bar, percent, status and the task's message, cut to `columns`
 * so that a terminal never wraps it (a wrapped line cannot be redrawn with \r).
 */
export function progressLine(task: Task, { columns, note }: { columns?: number | undefined; note?: string | undefined } = {}): string {
  const parts = [task.id, progressBar(task.progress), `${String(task.progress).padStart(3)}%`, statusLabel(task)];
  // A queued task's place says more than its message ("queued: 3 ahead, ~40 s").
  const message = queueSummary(task) ?? (task.error ? `${task.error.type}: ${task.error.message}` : task.message);
  if (message) parts.push(message);
  if (note) parts.push(`(${note})`);
  const line = parts.join('  ').replace(/\s*\n\s*/g, ' ');
  if (!columns || line.length < columns) return line;
  return `${line.slice(0, Math.max(0, columns - 2))}…`;
}

import type { Task } from '@tasklane/client';

/** Requests in flight at once: enough to be quick for a page of rows without flooding the API. */
const CONCURRENCY = 4;

export interface BulkOutcome {
  done: number;
  failed: { id: string; error: unknown }[];
}

/**
 * Runs `action` on each selected task, a few at a time, and collects every failure instead of
 * stopping at the first. A selection is a set of ids the operator picked, and the bulk mutations
 * take a filter (status, kind, created range, metadata) with no id list: a filter would also act on
 * matching tasks that are off screen or arrived after the click, so a selection is sent id by id.
 */
export async function runForEach(tasks: readonly Task[], action: (task: Task) => Promise<void>): Promise<BulkOutcome> {
  const outcome: BulkOutcome = { done: 0, failed: [] };
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      try {
        await action(task);
        outcome.done += 1;
      } catch (error) {
        outcome.failed.push({ id: task.id, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, tasks.length) }, lane));
  return outcome;
}

/** "Cancelled 2 of 3; vid_… : <why>" — the first failure speaks for the rest, the count says how many. */
export function describeOutcome(verb: string, total: number, outcome: BulkOutcome, describeError: (error: unknown) => string): string {
  const summary = `${verb} ${outcome.done} of ${total}.`;
  const first = outcome.failed[0];
  if (!first) return summary;
  const more = outcome.failed.length > 1 ? ` (and ${outcome.failed.length - 1} more)` : '';
  return `${summary} ${first.id}: ${describeError(first.error)}${more}`;
}

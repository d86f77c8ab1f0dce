import type { TasklaneClient } from '@tasklane/client';
import { EXIT } from './exit-codes.ts';
import { createProgressPrinter, type OutputStream } from './output/progress-printer.ts';
import { finishedLine } from './output/task-summary.ts';

export interface FollowOptions {
  json: boolean;
  /** Milliseconds; undefined waits as long as it takes. */
  timeout: number | undefined;
  out: OutputStream;
}

/**
 * Follows a task to its end for `watch` and `submit --wait`: a live progress line for people, one
 * JSON document per state (NDJSON) with `--json`. Resolves with exit code 0 once completed; a
 * failed, cancelled or timed-out task rejects with the client's typed error, which the caller
 * turns into exit code 1, 2 or 3.
 */
export async function followTask(client: TasklaneClient, id: string, { json, timeout, out }: FollowOptions): Promise<number> {
  const printer = json ? undefined : createProgressPrinter(out);
  try {
    const task = await client.waitFor(id, {
      timeout,
      onProgress: (update) => (printer ? printer.update(update) : out.write(`${JSON.stringify(update)}\n`)),
      onStalled: (update, info) => printer?.stalled(update, info),
    });
    printer?.end();
    if (printer) out.write(`${finishedLine(task)}\n`);
    return EXIT.completed;
  } finally {
    printer?.end();
  }
}

import type { StallInfo, Task } from '@tasklane/client';
import { progressLine } from './progress-line.ts';

/** Where progress goes: process.stdout, or a fake one in tests. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

export interface ProgressPrinter {
  update(task: Task): void;
  stalled(task: Task, info: StallInfo): void;
  /** Ends the live line, so what follows starts on a fresh one. */
  end(): void;
}

/**
 * On a terminal, one line redrawn in place with \r (and cleared to its end, as a shorter line
 * would leave the old one's tail); elsewhere (a pipe, a CI log) one plain line per change.
 */
export function createProgressPrinter(out: OutputStream): ProgressPrinter {
  let last: Task | undefined;
  let drawn = false;
  const draw = (task: Task, note?: string) => {
    if (out.isTTY) {
      out.write(`\r${progressLine(task, { columns: out.columns, note })}\x1b[K`);
      drawn = true;
    } else {
      out.write(`${progressLine(task, { note })}\n`);
    }
  };
  return {
    update(task) {
      last = task;
      draw(task);
    },
    stalled(task, info) {
      draw(last ?? task, `no update for ${Math.round(info.quietMs / 1000)}s`);
    },
    end() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}

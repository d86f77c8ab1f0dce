import type { Task } from './task-types.ts';

/** What `onStalled` is told. */
export interface StallInfo {
  /** Checks in a row that found no change. */
  checks: number;
  /** Milliseconds since the task last changed (or since waiting began). */
  quietMs: number;
}

/**
 * Counts checks in a row that find the task unchanged (same version) and reports a stall once per
 * quiet spell, when the count reaches `after`. The seed warns after 10 polls without progress.
 */
export class StallDetector {
  private version = -1;
  private quiet = 0;
  private changedAt = Date.now();

  constructor(
    private readonly after: number,
    private readonly onStalled: (task: Task, info: StallInfo) => void,
  ) {}

  /** One check: `task` is the latest state known at the time. */
  check(task: Task | undefined): void {
    if (task && task.version !== this.version) {
      this.version = task.version;
      this.quiet = 0;
      this.changedAt = Date.now();
      return;
    }
    this.quiet += 1;
    if (this.quiet === this.after && task) this.onStalled(task, { checks: this.quiet, quietMs: Date.now() - this.changedAt });
  }

  /** A new state arrived between checks: the quiet spell is over. */
  changed(task: Task): void {
    if (task.version === this.version) return;
    this.version = task.version;
    this.quiet = 0;
    this.changedAt = Date.now();
  }
}

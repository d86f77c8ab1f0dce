import { isNewerState, type Task, type TaskStatus } from '@tasklane/client';

/** What the table shows: one status and one kind at most, and metadata pairs all held; empty means any. */
export interface TaskFilter {
  status: TaskStatus | '';
  kind: string;
  metadata: Record<string, string>;
}

function holdsMetadata(task: Task, wanted: Record<string, string>): boolean {
  const metadata = (task.metadata ?? {}) as Record<string, unknown>;
  return Object.entries(wanted).every(([key, value]) => metadata[key] === value);
}

export function matchesFilter(task: Task, filter: TaskFilter): boolean {
  return (!filter.status || task.status === filter.status) && (!filter.kind || task.kind === filter.kind) && holdsMetadata(task, filter.metadata);
}

/**
 * The tasks on the page, merged from list reads and live changes by `version`: whichever arrives
 * later, the higher version wins, so a slow list answer never rolls a row back.
 */
export class TaskStore {
  #tasks = new Map<string, Task>();
  /** Ids changed since the current reload began: the list read may predate them. */
  #touchedDuringReload: Set<string> | undefined;

  /**
   * Takes a task if it is newer than the one held (or the same version with a moved queue place:
   * a queue push); answers whether anything changed.
   */
  apply(task: Task): boolean {
    if (!isNewerState(this.#tasks.get(task.id), task)) return false;
    this.#tasks.set(task.id, task);
    this.#touchedDuringReload?.add(task.id);
    return true;
  }

  /** Call before starting a list read; pass its answer to `finishReload`. */
  beginReload(): void {
    this.#touchedDuringReload = new Set();
  }

  /**
   * Replaces the held tasks with a fresh list. Tasks missing from it are dropped (deleted by
   * retention, or outside the filter now) unless a live change arrived while the list was read.
   */
  finishReload(listed: readonly Task[]): void {
    const touched = this.#touchedDuringReload ?? new Set<string>();
    this.#touchedDuringReload = undefined;
    const next = new Map<string, Task>();
    for (const id of touched) {
      const task = this.#tasks.get(id);
      if (task) next.set(id, task);
    }
    const previous = this.#tasks;
    this.#tasks = next;
    for (const task of listed) {
      this.apply(task);
      // Keep the newer copy when an update overtook the list read.
      const held = previous.get(task.id);
      if (held && held.version > task.version) this.#tasks.set(task.id, held);
    }
  }

  /** Matching tasks, newest first (ids and createdAt both sort by time), at most `limit`. */
  visible(filter: TaskFilter, limit: number): Task[] {
    return [...this.#tasks.values()]
      .filter((task) => matchesFilter(task, filter))
      .sort((a, b) => (a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt)))
      .slice(0, limit);
  }
}

import type { TaskStatus } from '@tasklane/core';
import type { TaskChange } from './event-bus.ts';

/**
 * Receives the changes a store's statement made, after it committed. With LISTEN/NOTIFY the
 * database trigger announces every change by itself and no publisher is needed; a bus outside
 * the database (Redis) cannot see inside the transaction, so the writers hand it what their
 * statements returned instead.
 */
export type ChangeListener = (changes: TaskChange[]) => void;

export interface ChangePublishing {
  /** Called after every committed statement that changed tasks, with their new id, version and status. */
  onChanges?: ChangeListener | undefined;
}

/** The announcement for rows a statement returned. */
export function changesOf(rows: readonly { id: string; version: number | string; status: string }[]): TaskChange[] {
  return rows.map((row) => ({ id: row.id, version: Number(row.version), status: row.status as TaskStatus }));
}

/** Hands the rows to the listener, if any; a throwing listener must not fail the write that already committed. */
export function announce(listener: ChangeListener | undefined, rows: readonly { id: string; version: number | string; status: string }[]): void {
  if (!listener || rows.length === 0) return;
  try {
    listener(changesOf(rows));
  } catch {
    // The change is stored; subscribers resync from the database when the bus recovers.
  }
}

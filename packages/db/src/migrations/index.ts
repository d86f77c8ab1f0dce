import type { Migration } from 'kysely';
import * as tasks from './0001-tasks.ts';

/** Every migration, in order. Names sort lexically; never rename or edit one that has shipped. */
export const migrations: Record<string, Migration> = {
  '0001-tasks': tasks,
};

import type pg from 'pg';
import type { Config } from '@tasklane/core';
import type { EventBus, TaskFeed, TaskStore } from '@tasklane/db';

/** What every route and resolver of one API process shares. */
export interface AppContext {
  config: Config;
  pool: pg.Pool;
  store: TaskStore;
  bus: EventBus;
  feed: TaskFeed;
}

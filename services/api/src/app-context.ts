import type pg from 'pg';
import type { Config } from '@tasklane/core';
import type { EventBus, TaskFeed, TaskStore } from '@tasklane/db';
import type { OwnerLimits } from './rate-limit/owner-limits.ts';

/** What every route and resolver of one API process shares. */
export interface AppContext {
  config: Config;
  pool: pg.Pool;
  store: TaskStore;
  bus: EventBus;
  feed: TaskFeed;
  /** Per-owner submission and subscription limits, shared by every API process. */
  limits: OwnerLimits;
}

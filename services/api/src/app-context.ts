import type pg from 'pg';
import type { Config } from '@tasklane/core';
import type { EventBus, KindRegistry, QueuePusher, TaskFeed, TaskOperations, TaskStore, WebhookStore } from '@tasklane/db';
import type { KeyVerifier } from './auth/key-verifier.ts';
import type { OwnerLimits } from './rate-limit/owner-limits.ts';
import type { HttpWorkers } from './workers/http-workers.ts';

/** What every route and resolver of one API process shares. */
export interface AppContext {
  config: Config;
  pool: pg.Pool;
  store: TaskStore;
  /** Re-runs and bulk actions. */
  operations: TaskOperations;
  /** Which kinds workers serve: the submit check (`TASK_KINDS`) and the live workers per kind. */
  kinds: KindRegistry;
  bus: EventBus;
  feed: TaskFeed;
  /** Pushes pending tasks' moved queue places to their subscribers, at most once a second. */
  queuePusher: QueuePusher;
  /** Per-owner submission and subscription limits, shared by every API process. */
  limits: OwnerLimits;
  /** Checks API keys (with a short cache of what it read) when `AUTH=on`. */
  keys: KeyVerifier;
  /** Webhook secrets and delivery logs (the deliveries themselves are sent by worker processes). */
  webhooks: WebhookStore;
  /** The HTTP worker protocol's claims, heartbeats and lease sweep. */
  workers: HttpWorkers;
}

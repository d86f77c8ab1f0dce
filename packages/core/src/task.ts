import type { TaskStatus } from './status.ts';
import type { NewWebhook, WebhookConfig } from './webhook.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Labels an operator finds and acts on tasks by (customer, batch, pipeline): strings to strings. */
export type TaskMetadata = Record<string, string>;

/** What a failed (or retrying) task records about its last error. */
export interface TaskErrorInfo {
  type: string;
  message: string;
  retryable: boolean;
}

/** A task as stored: one row of `tasklane.tasks`. */
export interface Task {
  id: string;
  kind: string;
  service: string | null;
  owner: string;
  status: TaskStatus;
  progress: number;
  message: string | null;
  input: JsonValue;
  result: JsonValue | null;
  error: TaskErrorInfo | null;
  priority: number;
  runAt: Date;
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  idempotencyKey: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  finishedAt: Date | null;
  /** Where changes are posted; absent when the task has none, and on claimed tasks (the claim does not read it). */
  webhook?: WebhookConfig | null;
  /** Empty when the task was submitted without any. */
  metadata: TaskMetadata;
  /** The failed or cancelled task this one re-runs. */
  retriedFrom: string | null;
}

/** What a client gives to create a task. */
export interface NewTask {
  kind: string;
  input?: JsonValue;
  service?: string | null;
  owner?: string;
  /** Higher runs first. Default 0. */
  priority?: number;
  maxAttempts?: number;
  /** Do not start before this time. */
  runAt?: Date;
  idempotencyKey?: string | null;
  /** Called back on changes; see docs/webhooks.md. */
  webhook?: NewWebhook | null;
  metadata?: TaskMetadata | null;
  /**
   * The W3C `traceparent` of the span that submitted the task; set by the server when it traces,
   * never taken from a client's body.
   */
  traceParent?: string | null;
}

export const DEFAULT_OWNER = 'default';
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_PRIORITY = 1000;
export const MAX_ATTEMPTS_LIMIT = 100;
export const KIND_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
/** At most this many metadata pairs per task. */
export const MAX_METADATA_PAIRS = 16;
/** Longest metadata key or value, in characters. */
export const MAX_METADATA_LENGTH = 256;

import type { TasklaneClientOptions } from './client-options.ts';
import { TasklaneRequestError } from './errors.ts';
import {
  CancelTaskDocument,
  CancelTasksDocument,
  GetTaskDocument,
  PauseKindDocument,
  QueueStatsDocument,
  ResumeKindDocument,
  RetryTaskDocument,
  RetryTasksDocument,
  SubmitTaskDocument,
  TaskDetailsDocument,
  type KindFieldsFragment,
  type TaskDetailsQuery,
  type QueueStatsQuery,
  type BulkTaskFilter,
} from './generated/graphql.ts';
import { createHttpTransport } from './http-transport.ts';
import { asArray, asDateTime, listAllTasks, listTaskPage } from './list-tasks.ts';
import { DEFAULT_POLL_SCHEDULE, DEFAULT_RECONNECT } from './poll-schedule.ts';
import { checkSubmittedInput } from './submitted-input.ts';
import type { BulkFilter, BulkResult, CancelResult, CancelledTask, CompletedTask, ListFilter, SubmitInput, Task, TaskPage } from './task-types.ts';
import { waitForTask, type WaitForOptions } from './wait-for-task.ts';
import { watchAllTasks, type WatchAllFilter } from './watch-all-tasks.ts';
import { watchTask, type WatchOptions } from './watch-task.ts';
import { createWsTransport, type ConnectionState } from './ws-transport.ts';

const DEFAULT_STALL = { after: 10, intervalMs: 5000 };

/** The queue's counts and each concurrency cap, as `Query.queueStats` reports them. */
export type QueueStats = NonNullable<QueueStatsQuery['queueStats']>;

/** What a task's page shows beside its fields: every attempt, and its webhook deliveries (oldest first). */
export type TaskDetails = Omit<NonNullable<TaskDetailsQuery['task']>, 'id'>;

/** One kind: its workers, its pending tasks, and whether it is paused (`pausedAt` an ISO time). */
export type KindState = KindFieldsFragment;

export interface TasklaneClient {
  /** The HTTP endpoint requests go to. */
  readonly url: string;
  /** The graphql-ws endpoint subscriptions go to. */
  readonly wsUrl: string;
  /** Queues a task; resolves with it, PENDING. */
  submit(input: SubmitInput, options?: { signal?: AbortSignal }): Promise<Task>;
  /** One task as it is now. An unknown id rejects with a `TasklaneRequestError` whose code is NOT_FOUND. */
  get(id: string, options?: { signal?: AbortSignal }): Promise<Task>;
  /**
   * A task's attempts (worker, start, end, outcome, error) and webhook deliveries: one read, kept
   * apart from `get` so that watches and lists do not carry them. Unknown ids reject like `get`.
   */
  details(id: string, options?: { signal?: AbortSignal }): Promise<TaskDetails>;
  /** Every matching task, page after page as the loop reads on: `for await (const task of client.list({ status: 'FAILED' }))`. */
  list(filter?: ListFilter): AsyncIterable<Task>;
  /** One page, for callers that keep the cursor themselves. */
  listPage(filter?: ListFilter & { after?: string | null }, options?: { signal?: AbortSignal }): Promise<TaskPage>;
  /** Cancels a pending or processing task; a finished one rejects with TASK_NOT_CANCELLABLE. */
  cancel(id: string, options?: { signal?: AbortSignal }): Promise<CancelResult>;
  /** Re-runs a failed or cancelled task as a new one (linked by `retriedFrom`); anything else rejects with TASK_NOT_RETRYABLE. */
  retry(id: string, options?: { signal?: AbortSignal }): Promise<Task>;
  /** Cancels the pending and processing tasks in one page of those matching `filter`; go on with `nextCursor`. */
  cancelMatching(filter?: BulkFilter, options?: { signal?: AbortSignal }): Promise<BulkResult>;
  /** Re-runs the failed and cancelled tasks in one page of those matching `filter`; go on with `nextCursor`. */
  retryMatching(filter?: BulkFilter, options?: { signal?: AbortSignal }): Promise<BulkResult>;
  /** The task's states over graphql-ws, the current one first, until a terminal one (inclusive). */
  watch(id: string, options?: WatchOptions): AsyncGenerator<Task, void, undefined>;
  /** Resolves with the completed task, or rejects with TaskFailedError, TaskCancelledError or TaskTimeoutError. */
  waitFor(id: string, options?: WaitForOptions): Promise<CompletedTask>;
  /**
   * Waits for every task at once, sharing one socket; resolves with them in the order of `ids`.
   * Like `Promise.all`, the first failure rejects and stops the other waits.
   */
  waitForAll(ids: readonly string[], options?: WaitForOptions): Promise<CompletedTask[]>;
  /**
   * Every change to any matching task (`tasksUpdated`), for dashboards. No initial state and no
   * replay after a reconnect: list first, and list again when `onConnectionChange` says `connected`.
   */
  watchAll(filter?: WatchAllFilter, options?: { signal?: AbortSignal }): AsyncGenerator<Task, void, undefined>;
  /** Counts per status and the processing count against each concurrency cap. */
  queueStats(options?: { signal?: AbortSignal }): Promise<QueueStats>;
  /**
   * Pauses a kind for the whole cluster (admin keys only, else FORBIDDEN): no worker claims its
   * pending tasks until `resumeKind`; running ones finish. Idempotent. An unknown kind rejects with BAD_USER_INPUT.
   */
  pauseKind(kind: string, options?: { signal?: AbortSignal }): Promise<KindState>;
  /** Resumes a paused kind (admin keys only); idempotent. */
  resumeKind(kind: string, options?: { signal?: AbortSignal }): Promise<KindState>;
  /** Calls `listener` whenever the shared WebSocket connects or drops; returns an unsubscribe function. */
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
  /** Closes the WebSocket, if one is open. The client can still be used; it reconnects on demand. */
  close(): Promise<void>;
}

/** A GraphQL endpoint from a URL that may be a bare origin such as http://localhost:8000. */
function graphqlUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/graphql';
  return parsed.toString();
}

function bulkVariables(filter: BulkFilter): { filter: BulkTaskFilter; first: number | null; after: string | null } {
  return {
    filter: {
      status: asArray(filter.status) ?? null,
      kind: asArray(filter.kind) ?? null,
      createdAfter: asDateTime(filter.createdAfter) ?? null,
      createdBefore: asDateTime(filter.createdBefore) ?? null,
      metadata: filter.metadata ?? null,
    },
    first: filter.pageSize ?? null,
    after: filter.after ?? null,
  };
}

export function createTasklaneClient(options: TasklaneClientOptions): TasklaneClient {
  const url = graphqlUrl(options.url);
  const wsUrl = options.wsUrl ?? url.replace(/^http/, 'ws');
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey) headers['authorization'] = `Bearer ${options.apiKey}`;
  const request = createHttpTransport({ url, fetch: fetchImpl, headers });
  const reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
  const ws = createWsTransport({
    url: wsUrl,
    // Resolved here, once: the transport then knows whether it has one at all.
    webSocketImpl: options.webSocketImpl === undefined ? (globalThis as { WebSocket?: unknown }).WebSocket : options.webSocketImpl,
    apiKey: options.apiKey,
    reconnectAttempts: reconnect.attempts,
    reconnectDelayMs: reconnect.delayMs,
  });
  const watchDeps = { ws, wsUrl, reconnectAttempts: reconnect.attempts, reconnectDelayMs: reconnect.delayMs };
  const polling = { ...DEFAULT_POLL_SCHEDULE, ...options.polling };
  const stall = { ...DEFAULT_STALL, ...options.stall };

  const get = async (id: string, signal?: AbortSignal): Promise<Task> => {
    const { task } = await request(GetTaskDocument, { id }, signal);
    // The server answers an unknown id with NOT_FOUND; a null without it would be a server bug.
    if (!task) throw new TasklaneRequestError(`Task ${id} not found`, 'NOT_FOUND');
    return task;
  };

  const waitFor = (id: string, waitOptions?: WaitForOptions) =>
    waitForTask({ get, watch: (taskId, signal) => watchTask(watchDeps, taskId, { signal }), polling, stall }, id, waitOptions);

  return {
    url,
    wsUrl,

    async submit(input, { signal } = {}) {
      checkSubmittedInput(input.input);
      const { runAt, ...rest } = input;
      const variables = { input: { ...rest, runAt: runAt instanceof Date ? runAt.toISOString() : runAt } };
      const { submitTask } = await request(SubmitTaskDocument, variables, signal);
      if (!submitTask) throw new TasklaneRequestError('submitTask answered no task', 'BAD_RESPONSE');
      return submitTask;
    },

    get: (id, { signal } = {}) => get(id, signal),

    async details(id, { signal } = {}) {
      const { task } = await request(TaskDetailsDocument, { id }, signal);
      if (!task) throw new TasklaneRequestError(`Task ${id} not found`, 'NOT_FOUND');
      return { attemptHistory: task.attemptHistory, webhookDeliveries: task.webhookDeliveries };
    },

    list: (filter = {}) => ({ [Symbol.asyncIterator]: () => listAllTasks(request, filter) }),

    listPage: (filter = {}, { signal } = {}) => listTaskPage(request, filter, signal),

    async cancel(id, { signal } = {}) {
      const { cancelTask } = await request(CancelTaskDocument, { id }, signal);
      if (!cancelTask) throw new TasklaneRequestError(`cancelTask answered nothing for ${id}`, 'BAD_RESPONSE');
      return { ...cancelTask, task: cancelTask.task as CancelledTask };
    },

    async retry(id, { signal } = {}) {
      const { retryTask } = await request(RetryTaskDocument, { id }, signal);
      if (!retryTask) throw new TasklaneRequestError(`retryTask answered nothing for ${id}`, 'BAD_RESPONSE');
      return retryTask;
    },

    async cancelMatching(filter = {}, { signal } = {}) {
      const { cancelTasks } = await request(CancelTasksDocument, bulkVariables(filter), signal);
      if (!cancelTasks) throw new TasklaneRequestError('cancelTasks answered nothing', 'BAD_RESPONSE');
      return cancelTasks;
    },

    async retryMatching(filter = {}, { signal } = {}) {
      const { retryTasks } = await request(RetryTasksDocument, bulkVariables(filter), signal);
      if (!retryTasks) throw new TasklaneRequestError('retryTasks answered nothing', 'BAD_RESPONSE');
      return retryTasks;
    },

    watch: (id, watchOptions) => watchTask(watchDeps, id, watchOptions),

    waitFor,

    async waitForAll(ids, waitOptions = {}) {
      // One controller for all, so the first failure stops the other waits instead of leaving them running.
      const controller = new AbortController();
      const outer = waitOptions.signal;
      const onAbort = () => controller.abort(outer?.reason);
      if (outer?.aborted) onAbort();
      outer?.addEventListener('abort', onAbort, { once: true });
      try {
        return await Promise.all(
          ids.map((id) =>
            waitFor(id, { ...waitOptions, signal: controller.signal }).catch((error: unknown) => {
              controller.abort(error);
              throw error;
            }),
          ),
        );
      } finally {
        outer?.removeEventListener('abort', onAbort);
      }
    },

    watchAll: (filter, { signal } = {}) => watchAllTasks(ws, filter, signal),

    async queueStats({ signal } = {}) {
      const { queueStats } = await request(QueueStatsDocument, {}, signal);
      if (!queueStats) throw new TasklaneRequestError('queueStats answered nothing', 'BAD_RESPONSE');
      return queueStats;
    },

    async pauseKind(kind, { signal } = {}) {
      const { pauseKind } = await request(PauseKindDocument, { kind }, signal);
      if (!pauseKind) throw new TasklaneRequestError(`pauseKind answered nothing for ${kind}`, 'BAD_RESPONSE');
      return pauseKind;
    },

    async resumeKind(kind, { signal } = {}) {
      const { resumeKind } = await request(ResumeKindDocument, { kind }, signal);
      if (!resumeKind) throw new TasklaneRequestError(`resumeKind answered nothing for ${kind}`, 'BAD_RESPONSE');
      return resumeKind;
    },

    onConnectionChange: (listener) => ws.onConnectionChange(listener),

    close: () => ws.close(),
  };
}

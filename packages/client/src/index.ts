export { createTasklaneClient, type TasklaneClient, type QueueStats, type KindState, type TaskDetails } from './create-client.ts';
export type { WatchAllFilter } from './watch-all-tasks.ts';
export type { ConnectionState } from './ws-transport.ts';
export type { TasklaneClientOptions, PollSchedule, ReconnectPolicy, StallPolicy } from './client-options.ts';
export {
  TasklaneClientError,
  TasklaneRequestError,
  TasklaneConnectionError,
  TaskFailedError,
  TaskCancelledError,
  TaskTimeoutError,
  type TasklaneErrorCode,
  type GraphqlErrorInfo,
} from './errors.ts';
export {
  isTerminal,
  type Task,
  type TaskStatus,
  type TerminalStatus,
  type TaskIn,
  type TaskErrorInfo,
  type CompletedTask,
  type FailedTask,
  type CancelledTask,
  type SubmitInput,
  type CancelResult,
  type ListFilter,
  type TaskPage,
  type BulkFilter,
  type BulkResult,
  type SortOrder,
} from './task-types.ts';
export type { WaitForOptions, ProgressInfo, UpdateSource } from './wait-for-task.ts';
export type { WatchOptions } from './watch-task.ts';
export type { StallInfo } from './stall-detector.ts';
export type { JsonValue, JsonObject } from './json-value.ts';
export { DEFAULT_POLL_SCHEDULE, pollIntervals } from './poll-schedule.ts';
export { verifyWebhook, WebhookVerificationError, type WebhookPayload, type VerifyWebhookOptions } from './verify-webhook.ts';
export type { WebhookEvent, WebhookInput } from './generated/graphql.ts';
export { queueSummary } from './queue-summary.ts';
export { isNewerState } from './newer-state.ts';

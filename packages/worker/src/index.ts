export { createWorker, type Worker, type WorkerHealth, type StopOptions } from './create-worker.ts';
export type { WorkerOptions } from './worker-options.ts';
export type { Handler, HandlerFn, HandlerDefinition, TaskContext } from './handler.ts';
export { TaskError, toErrorInfo, type TaskErrorOptions } from './task-error.ts';
export { TaskAbortedError, type AbortCause } from './abort-reason.ts';
export type { TaskEvent, TaskEventListener } from './task-events.ts';
export { silentLogger, withFields, errorFields, type Logger, type LogFields } from './logger.ts';
export { NO_SPAN } from './task-tracing.ts';
export { timeoutError } from './task-error.ts';
// The task a handler receives, so that handler code needs no import from @tasklane/core.
export type { Task, TaskStatus, TaskErrorInfo, JsonValue, ConcurrencyCaps } from '@tasklane/core';
export { createWebhookDispatcher, retryDelayMs, type WebhookDispatcher, type WebhookDispatcherOptions } from './webhooks/webhook-dispatcher.ts';
export { guardedLookup, fixedResolver, BlockedAddressError } from './webhooks/guarded-lookup.ts';
export { postWebhook, parseRetryAfter, MAX_RESPONSE_BYTES } from './webhooks/post-webhook.ts';

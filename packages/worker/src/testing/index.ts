// Helpers for tests: `@tasklane/worker/testing`. No database; nothing is started until asked.
export { runHandler, type RunHandlerOptions, type HandlerRun, type HandlerOutcome, type ProgressReport } from './run-handler.ts';
export { WebhookReceiver, type Answer, type ReceivedWebhook } from './webhook-receiver.ts';

// Helpers for testing handlers: `@tasklane/worker/testing`. No database, nothing started.
export { runHandler, type RunHandlerOptions, type HandlerRun, type HandlerOutcome, type ProgressReport } from './run-handler.ts';

import { SERVER_ERROR_CODES, type ServerErrorCode } from '@tasklane/core/errors';
import type { CancelledTask, FailedTask, Task } from './task-types.ts';

/**
 * The codes the server sends (the list in `@tasklane/core/errors`, shared with the server), plus
 * `BAD_RESPONSE` for an answer that was not GraphQL. A code this client does not know yet (a newer
 * server) is reported as `UNKNOWN`; the server's own code stays in `errors`.
 */
export type TasklaneErrorCode = ServerErrorCode | 'BAD_RESPONSE' | 'UNKNOWN';

const KNOWN_CODES: ReadonlySet<string> = new Set<string>(SERVER_ERROR_CODES);

/** The client's code for a server's `extensions.code`: a missing one means a masked error. */
export function clientErrorCode(raw: unknown): TasklaneErrorCode {
  if (typeof raw !== 'string') return 'INTERNAL_SERVER_ERROR';
  return KNOWN_CODES.has(raw) ? (raw as ServerErrorCode) : 'UNKNOWN';
}

/** One GraphQL error as the server sent it. */
export interface GraphqlErrorInfo {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/** Every error this client throws on purpose; `code` is stable and meant for `switch`. */
export abstract class TasklaneClientError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // Minifiers rename classes; the name is set from the class that threw, for logs and stack traces.
    this.name = new.target.name;
  }
}

/** The server answered with GraphQL errors (an unknown id, a bad input, a task that cannot be cancelled, …). */
export class TasklaneRequestError extends TasklaneClientError {
  readonly code: TasklaneErrorCode;
  /** The input field a BAD_USER_INPUT error is about, when the server names one. */
  readonly field: string | undefined;

  constructor(
    message: string,
    code: TasklaneErrorCode,
    readonly errors: readonly GraphqlErrorInfo[] = [],
    /** The HTTP status, for errors that came over HTTP. */
    readonly status?: number,
  ) {
    super(message);
    this.code = code;
    const field = errors[0]?.extensions?.['field'];
    this.field = typeof field === 'string' ? field : undefined;
  }

  /** The error for a GraphQL `errors` array: the first error's message and code speak for all. */
  static fromGraphqlErrors(errors: readonly GraphqlErrorInfo[], status?: number): TasklaneRequestError {
    const first = errors[0];
    return new TasklaneRequestError(first?.message ?? 'GraphQL request failed', clientErrorCode(first?.extensions?.['code']), errors, status);
  }
}

/** The server could not be reached, or the connection broke and could not be made again. */
export class TasklaneConnectionError extends TasklaneClientError {
  readonly code = 'CONNECTION_FAILED' as const;

  constructor(
    message: string,
    /** The address that failed. */
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The task failed for good; `errorType` and `errorMessage` come from the task's error. */
export class TaskFailedError extends TasklaneClientError {
  readonly code = 'TASK_FAILED' as const;
  readonly errorType: string;
  readonly errorMessage: string;
  readonly retryable: boolean;

  constructor(readonly task: FailedTask) {
    super(`Task ${task.id} failed: ${task.error.type}: ${task.error.message}`);
    this.errorType = task.error.type;
    this.errorMessage = task.error.message;
    this.retryable = task.error.retryable;
  }
}

/** The task was cancelled before it finished. */
export class TaskCancelledError extends TasklaneClientError {
  readonly code = 'TASK_CANCELLED' as const;

  constructor(readonly task: CancelledTask) {
    super(`Task ${task.id} was cancelled`);
  }
}

/**
 * `waitFor` gave up after its `timeout`. The task itself goes on: cancel it if its result is no
 * longer wanted.
 */
export class TaskTimeoutError extends TasklaneClientError {
  readonly code = 'TASK_TIMEOUT' as const;

  constructor(
    readonly taskId: string,
    /** The timeout in milliseconds. */
    readonly timeout: number,
    /** The last state seen before giving up, if any was. */
    readonly lastTask: Task | undefined,
  ) {
    super(`Task ${taskId} did not finish within ${formatSeconds(timeout)}` + (lastTask ? ` (last seen ${lastTask.status} at ${lastTask.progress}%)` : ''));
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

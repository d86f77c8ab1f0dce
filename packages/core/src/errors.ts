import type { ErrorCode } from './error-codes.ts';
import type { TaskStatus } from './status.ts';

export * from './error-codes.ts';

export class TasklaneError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

export class TaskNotFoundError extends TasklaneError {
  constructor(readonly taskId: string) {
    super('NOT_FOUND', `Task ${taskId} not found`);
  }
}

export class TaskNotCancellableError extends TasklaneError {
  constructor(
    readonly taskId: string,
    readonly status: TaskStatus,
  ) {
    super('TASK_NOT_CANCELLABLE', `Task ${taskId} cannot be cancelled because it is already ${status}`);
  }
}

/** Only a failed or cancelled task is re-run, and only once. */
export class TaskNotRetryableError extends TasklaneError {
  constructor(
    readonly taskId: string,
    readonly status: TaskStatus,
    /** The task that already re-runs it, when that is the reason. */
    readonly retriedAs: string | null = null,
  ) {
    super(
      'TASK_NOT_RETRYABLE',
      retriedAs
        ? `Task ${taskId} has already been retried as ${retriedAs}; retry that task instead`
        : `Task ${taskId} cannot be retried because it is ${status}; only failed or cancelled tasks can be retried`,
    );
  }
}

/** Bad input from a client; `field` names what to fix. */
export class ValidationError extends TasklaneError {
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super('BAD_USER_INPUT', `${field}: ${rule}`);
  }
}

export class IdempotencyConflictError extends TasklaneError {
  constructor(readonly idempotencyKey: string) {
    super(
      'IDEMPOTENCY_CONFLICT',
      `Idempotency key "${idempotencyKey}" was already used with a different request; use a new key for a new request`,
    );
  }
}

export class InvalidTransitionError extends TasklaneError {
  constructor(
    readonly taskId: string,
    readonly from: TaskStatus,
    readonly to: TaskStatus,
  ) {
    super('INVALID_TRANSITION', `Task ${taskId} cannot move from ${from} to ${to}`);
  }
}

/** A worker wrote to a task it no longer holds (lease swept, cancelled, or another attempt). */
export class LeaseLostError extends TasklaneError {
  constructor(readonly taskId: string) {
    super('LEASE_LOST', `This worker no longer holds task ${taskId}`);
  }
}

export class ConfigError extends TasklaneError {
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly allowed: string,
  ) {
    super('CONFIG_INVALID', `Invalid ${variable}=${JSON.stringify(value)}: expected ${allowed}`);
  }
}

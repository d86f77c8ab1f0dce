import { describe, expectTypeOf, it } from 'vitest';
import {
  createTasklaneClient,
  TaskCancelledError,
  TaskFailedError,
  TaskTimeoutError,
  TasklaneConnectionError,
  TasklaneRequestError,
  type CancelResult,
  type CompletedTask,
  type JsonValue,
  type Task,
  type TaskErrorInfo,
  type TaskStatus,
  type TasklaneErrorCode,
} from '../src/index.ts';

// Compile-time checks: `tsc` (pnpm typecheck) fails when a type drifts; vitest runs them too.
describe('types', () => {
  const client = createTasklaneClient({ url: 'http://localhost:8000' });

  it('types the status as a union of the five statuses', () => {
    expectTypeOf<TaskStatus>().toEqualTypeOf<'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'CANCELLED'>();
    expectTypeOf<Task['status']>().toEqualTypeOf<TaskStatus>();
  });

  it('types input and result as JSON and the error as type/message/retryable', () => {
    expectTypeOf<Task['input']>().toEqualTypeOf<JsonValue>();
    expectTypeOf<Task['result']>().toEqualTypeOf<JsonValue | null>();
    expectTypeOf<Task['error']>().toEqualTypeOf<TaskErrorInfo | null>();
    expectTypeOf<TaskErrorInfo>().toEqualTypeOf<{ type: string; message: string; retryable: boolean }>();
    expectTypeOf<Task['progress']>().toBeNumber();
    expectTypeOf<Task['createdAt']>().toBeString();
  });

  it('types every method', () => {
    expectTypeOf(client.submit).parameter(0).toMatchTypeOf<{ kind: string; input?: JsonValue }>();
    expectTypeOf(client.submit).returns.resolves.toEqualTypeOf<Task>();
    expectTypeOf(client.get).returns.resolves.toEqualTypeOf<Task>();
    expectTypeOf(client.list).returns.toEqualTypeOf<AsyncIterable<Task>>();
    expectTypeOf(client.cancel).returns.resolves.toEqualTypeOf<CancelResult>();
    expectTypeOf<CancelResult['task']['status']>().toEqualTypeOf<'CANCELLED'>();
    expectTypeOf(client.watch).returns.toEqualTypeOf<AsyncGenerator<Task, void, undefined>>();
    expectTypeOf(client.waitFor).returns.resolves.toEqualTypeOf<CompletedTask>();
    expectTypeOf(client.waitForAll).returns.resolves.toEqualTypeOf<CompletedTask[]>();
  });

  it('narrows what waitFor resolves with to a completed task with a JSON result', () => {
    expectTypeOf<CompletedTask['status']>().toEqualTypeOf<'COMPLETED'>();
    expectTypeOf<CompletedTask['result']>().toEqualTypeOf<JsonValue>();
  });

  it('types the errors with stable codes and the task they are about', () => {
    expectTypeOf<TasklaneRequestError['code']>().toEqualTypeOf<TasklaneErrorCode>();
    expectTypeOf<'NOT_FOUND'>().toMatchTypeOf<TasklaneErrorCode>();
    expectTypeOf<'TASK_NOT_CANCELLABLE'>().toMatchTypeOf<TasklaneErrorCode>();
    expectTypeOf<TasklaneConnectionError['code']>().toEqualTypeOf<'CONNECTION_FAILED'>();
    expectTypeOf<TaskFailedError['code']>().toEqualTypeOf<'TASK_FAILED'>();
    expectTypeOf<TaskFailedError['task']['status']>().toEqualTypeOf<'FAILED'>();
    expectTypeOf<TaskFailedError['task']['error']>().toEqualTypeOf<TaskErrorInfo>();
    expectTypeOf<TaskFailedError['errorType']>().toBeString();
    expectTypeOf<TaskCancelledError['task']['status']>().toEqualTypeOf<'CANCELLED'>();
    expectTypeOf<TaskTimeoutError['lastTask']>().toEqualTypeOf<Task | undefined>();
  });
});

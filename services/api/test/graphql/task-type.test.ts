import type { Task } from '@tasklane/core';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { execute } from 'graphql';
import { schema } from '../../src/graphql/schema.ts';

const at = new Date('2026-11-30T12:00:00.000Z');
const task: Task = {
  id: 'video_01jd0000000000000000000000',
  kind: 'video',
  service: null,
  owner: 'alice',
  status: 'processing',
  progress: 40,
  message: 'rendering',
  input: { prompt: 'a cat' },
  result: null,
  error: null,
  priority: 0,
  runAt: at,
  attempts: 1,
  maxAttempts: 3,
  leaseOwner: 'worker-1',
  idempotencyKey: null,
  version: 4,
  createdAt: at,
  updatedAt: at,
  startedAt: at,
  completedAt: null,
  finishedAt: null,
  metadata: {},
  retriedFrom: null,
};

describe('the Task type', () => {
  it('executes a selection of a task that is not pending synchronously, id and message included, so subscribers and lists need no promise per task', () => {
    const document = parse('subscription($id: ID!) { taskUpdated(id: $id) { id progress message version updatedAt } }');
    const result = execute({ schema, document, rootValue: task, variableValues: { id: task.id }, contextValue: {} });
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toEqual({ data: { taskUpdated: { id: task.id, progress: 40, message: 'rendering', version: 4, updatedAt: '2026-11-30T12:00:00.000Z' } } });
  });

  it('answers the task id itself as the global id, the same id REST and the client use', () => {
    const document = parse('subscription($id: ID!) { taskUpdated(id: $id) { id ... on Node { id } } }');
    const result = execute({ schema, document, rootValue: task, variableValues: { id: task.id }, contextValue: {} });
    expect(result).toEqual({ data: { taskUpdated: { id: task.id } } });
  });
});
